import { describe, expect, test } from 'vitest'
import { signUp, type TestClient } from '../support/auth'
import {
  connectChat,
  refusedStatus,
  type ChatClient,
  type Frame,
  type MessageFrame,
} from '../support/chat'
import { useFakeHms } from '../support/fake-hms'
import { useWorkersOnTestDatabase } from '../support/workers'

// Session chat through the built app Worker and its SessionChat Durable Object, over real
// WebSockets, against PostgreSQL (SPEC §2a).
const fake = useFakeHms()

const stack = useWorkersOnTestDatabase(() => ({
  ...fake.vars(),
  HLS_VIEWER_THRESHOLD: '1000',
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    'session-create': { limit: 1000, periodSeconds: 3600 },
    mutation: { limit: 10_000, periodSeconds: 60 },
  }),
}))

let counter = 0
const freshIp = () => `198.19.${Math.floor(++counter / 250)}.${counter % 250}`
const person = (name: string) =>
  signUp(stack.workers, {
    ip: freshIp(),
    profile: {
      username: `${name.toLowerCase()}${Date.now() % 1e7}${++counter}`,
      displayName: name,
    },
  })

async function createSession(host: TestClient, isPublic = true) {
  const response = await host.send('POST', '/api/sessions', {
    title: 'Chatty session',
    isPublic,
  })
  expect(response.status).toBe(201)
  return (
    (await response.json()) as { session: { id: string; roomCode: string } }
  ).session
}

const connect = (
  user: TestClient | null,
  sessionId: string,
  options?: Parameters<typeof connectChat>[3],
) => connectChat(stack.workers, user, sessionId, options)

const isMessage = (text: string) => (f: Frame) =>
  f.type === 'message' && (f as MessageFrame).message.text === text
const isError = (code: string) => (f: Frame) =>
  f.type === 'error' && f.code === code

function moderate(user: TestClient, sessionId: string, body: unknown) {
  return user.send('POST', `/api/sessions/${sessionId}/moderation`, body)
}

/** A room with a host and a viewer, both connected. */
async function room() {
  const host = await person('Host')
  const viewer = await person('Viewer')
  const session = await createSession(host)
  const hostChat = await connect(host, session.id)
  const viewerChat = await connect(viewer, session.id)
  return { host, viewer, session, hostChat, viewerChat }
}

async function say(chat: ChatClient, text: string) {
  chat.send({ type: 'send', text })
  return (await chat.waitFor(isMessage(text), text)) as unknown as MessageFrame
}

describe('who may connect', () => {
  test('anonymous, cross-origin, origin-less and plain HTTP requests are refused', async () => {
    const host = await person('Host')
    const session = await createSession(host)
    expect(await refusedStatus(connect(null, session.id))).toBe(401)
    expect(
      await refusedStatus(
        connect(host, session.id, { origin: 'https://evil.example' }),
      ),
    ).toBe(403)
    expect(
      await refusedStatus(connect(host, session.id, { origin: null })),
    ).toBe(403)
    const plain = await host.get(`/api/sessions/${session.id}/chat`)
    expect(plain.status).toBe(426)
    expect(await refusedStatus(connect(host, crypto.randomUUID()))).toBe(404)
    // The host with our Origin gets in, and is told who they are.
    const chat = await connect(host, session.id)
    const welcome = await chat.waitFor((f) => f.type === 'welcome')
    expect(welcome.member).toMatchObject({ userId: host.userId, role: 'host' })
    await chat.close()
  })

  test('a private session admits its participants and holders of the room code only', async () => {
    const host = await person('Host')
    const stranger = await person('Stranger')
    const session = await createSession(host, false)
    expect(await refusedStatus(connect(stranger, session.id))).toBe(404)
    const chat = await connect(stranger, session.id, { code: session.roomCode })
    await chat.close()
    // Having come in by the code, they are a participant now.
    const again = await connect(stranger, session.id)
    await again.close()
  })
})

describe('delivery', () => {
  test('200 clients receive every message exactly once and in the same order', async () => {
    const host = await person('Host')
    const session = await createSession(host)
    const senders = await Promise.all(
      Array.from({ length: 12 }, (_, i) => person(`Sender${i}`)),
    )
    // Connected 20 at a time: each upgrade is a database round trip, and this machine's
    // PostgreSQL takes 100 connections (production goes through Neon's pooler).
    const listeners: ChatClient[] = []
    for (let i = 0; i < 200 - senders.length; i += 20)
      listeners.push(
        ...(await Promise.all(
          Array.from(
            { length: Math.min(20, 200 - senders.length - i) },
            (_, j) =>
              connect(
                j % 2 ? host : senders[(i + j) % senders.length]!,
                session.id,
              ),
          ),
        )),
      )
    const senderChats = await Promise.all(
      senders.map((s) => connect(s, session.id)),
    )
    const clients = [...listeners, ...senderChats]
    expect(clients).toHaveLength(200)
    // 12 senders × 5 messages (the per-user limit), all at once.
    for (let round = 0; round < 5; round++)
      senderChats.forEach((chat, i) =>
        chat.send({ type: 'send', text: `m ${i}.${round}` }),
      )
    await Promise.all(clients.map((c) => c.waitForMessages(60)))
    const reference = clients[0]!.messageIds()
    expect(reference).toHaveLength(60)
    expect(new Set(reference).size).toBe(60)
    expect([...reference].sort((a, b) => a - b)).toEqual(reference)
    for (const client of clients) expect(client.messageIds()).toEqual(reference)
    await Promise.all(clients.map((c) => c.close()))
  }, 60_000)

  test('a client that reconnects with its last id misses nothing and gets nothing twice', async () => {
    const { session, hostChat, viewer, viewerChat } = await room()
    await say(viewerChat, 'one')
    const seen = viewerChat.messageIds()
    await viewerChat.close()
    await say(hostChat, 'two')
    await say(hostChat, 'three')
    const back = await connect(viewer, session.id, { after: seen.at(-1)! })
    await back.waitFor(isMessage('three'))
    const texts = back.frames
      .filter((f) => f.type === 'message')
      .map((f) => (f as MessageFrame).message.text)
    expect(texts).toEqual(['two', 'three'])
    // The resume frame does the same on an open socket.
    const resumed = await connect(viewer, session.id)
    await resumed.waitFor(isMessage('three'))
    const before = resumed.messageIds().length
    resumed.send({ type: 'resume', after: seen.at(-1)! })
    await resumed.waitForMessages(before + 2)
    expect(resumed.messageIds().slice(before)).toEqual(back.messageIds())
    await Promise.all([hostChat.close(), back.close(), resumed.close()])
  })

  test('a new client gets the last 200 messages', async () => {
    const host = await person('Host')
    const session = await createSession(host)
    const senders = await Promise.all(
      Array.from({ length: 41 }, (_, i) => person(`Burst${i}`)),
    )
    const chats = await Promise.all(senders.map((s) => connect(s, session.id)))
    for (let round = 0; round < 5; round++)
      chats.forEach((chat, i) =>
        chat.send({ type: 'send', text: `${i}/${round}` }),
      )
    await Promise.all(chats.map((c) => c.waitForMessages(205)))
    const late = await connect(host, session.id)
    await late.waitForMessages(200)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(late.messageIds()).toEqual(chats[0]!.messageIds().slice(-200))
    await Promise.all([...chats, late].map((c) => c.close()))
  }, 60_000)
})

describe('limits', () => {
  test('the per-user limit holds under a burst: 5 of 12 pass', async () => {
    const { viewerChat, hostChat } = await room()
    for (let i = 0; i < 12; i++)
      viewerChat.send({ type: 'send', text: `b${i}` })
    await viewerChat.waitFor(isMessage('b4'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const accepted = hostChat.frames.filter((f) => f.type === 'message')
    expect(accepted).toHaveLength(5)
    const refused = viewerChat.frames.filter(isError('rate_limited'))
    expect(refused).toHaveLength(7)
    expect(refused[0]!.retryAfter).toBeGreaterThan(0)
    await Promise.all([viewerChat.close(), hostChat.close()])
  })

  test('slow mode: one message per interval for viewers, the host is exempt, a viewer cannot set it', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    expect(
      (await moderate(viewer, session.id, { action: 'slow', seconds: 30 }))
        .status,
    ).toBe(403)
    expect(
      (await moderate(host, session.id, { action: 'slow', seconds: 3 })).status,
    ).toBe(400)
    expect(
      (await moderate(host, session.id, { action: 'slow', seconds: 30 }))
        .status,
    ).toBe(200)
    await viewerChat.waitFor(
      (f) => f.type === 'moderation' && f.action === 'slow',
    )
    for (let i = 0; i < 4; i++) viewerChat.send({ type: 'send', text: `s${i}` })
    for (let i = 0; i < 3; i++) hostChat.send({ type: 'send', text: `h${i}` })
    await hostChat.waitFor(isMessage('h2'))
    await viewerChat.waitFor(isError('slow_mode'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const texts = hostChat.frames
      .filter((f) => f.type === 'message')
      .map((f) => (f as MessageFrame).message.text)
    expect(texts.filter((t) => t.startsWith('s'))).toEqual(['s0'])
    expect(texts.filter((t) => t.startsWith('h'))).toEqual(['h0', 'h1', 'h2'])
    expect(viewerChat.frames.filter(isError('slow_mode'))).toHaveLength(3)
    await Promise.all([viewerChat.close(), hostChat.close()])
  })

  test("a timed-out user's messages are refused until the timeout ends", async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    expect(
      (
        await moderate(viewer, session.id, {
          action: 'timeout',
          userId: host.userId,
          minutes: 5,
        })
      ).status,
    ).toBe(403)
    const timedOut = await moderate(host, session.id, {
      action: 'timeout',
      userId: viewer.userId,
      minutes: 1,
    })
    expect(timedOut.status).toBe(200)
    viewerChat.send({ type: 'send', text: 'let me talk' })
    const refusal = await viewerChat.waitFor(isError('timed_out'))
    // It ends after the minute: the refusal says when (app/models/chat-rules.test.ts runs the clock).
    expect(refusal.retryAfter).toBeGreaterThan(55)
    expect(refusal.retryAfter).toBeLessThanOrEqual(60)
    await say(hostChat, 'host still talks')
    expect(hostChat.frames.some(isMessage('let me talk'))).toBe(false)
    await Promise.all([viewerChat.close(), hostChat.close()])
  })
})

describe('moderation', () => {
  test('a viewer cannot hide, time out, ban or set slow mode; the host hides for everyone', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    const other = await person('Other')
    const otherChat = await connect(other, session.id)
    const message = await say(hostChat, 'hide me')
    for (const command of [
      { action: 'hide', messageId: message.message.id },
      { action: 'timeout', userId: other.userId, minutes: 5 },
      { action: 'ban', userId: other.userId },
      { action: 'slow', seconds: 10 },
    ]) {
      const response = await moderate(viewer, session.id, command)
      expect(response.status, JSON.stringify(command)).toBe(403)
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe('not_moderator')
    }
    const still = await connect(other, session.id)
    await still.waitFor(isMessage('hide me'))
    await still.close()

    expect(
      (
        await moderate(host, session.id, {
          action: 'hide',
          messageId: message.message.id,
        })
      ).status,
    ).toBe(200)
    await viewerChat.waitFor(
      (f) => f.type === 'hidden' && f.id === message.message.id,
    )
    await otherChat.waitFor(
      (f) => f.type === 'hidden' && f.id === message.message.id,
    )
    const late = await connect(other, session.id)
    await late.waitFor((f) => f.type === 'welcome')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(late.frames.some(isMessage('hide me'))).toBe(false)
    await Promise.all(
      [viewerChat, hostChat, otherChat, late].map((c) => c.close()),
    )
  })

  test('a moderator named by the host can hide; only the host names moderators', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    const other = await person('Other')
    await (await connect(other, session.id)).close()
    expect(
      (
        await viewer.send('POST', `/api/sessions/${session.id}/moderators`, {
          userId: other.userId,
          action: 'add',
        })
      ).status,
    ).toBe(403)
    const named = await host.send(
      'POST',
      `/api/sessions/${session.id}/moderators`,
      {
        userId: viewer.userId,
        action: 'add',
      },
    )
    expect(named.status).toBe(200)
    await viewerChat.waitFor(
      (f) =>
        f.type === 'moderation' &&
        f.action === 'moderator' &&
        f.isModerator === true,
    )
    const message = await say(hostChat, 'moderate this')
    expect(
      (
        await moderate(viewer, session.id, {
          action: 'hide',
          messageId: message.message.id,
        })
      ).status,
    ).toBe(200)
    // A moderator cannot ban the host.
    expect(
      (
        await moderate(viewer, session.id, {
          action: 'ban',
          userId: host.userId,
        })
      ).status,
    ).toBe(403)
    await Promise.all([viewerChat.close(), hostChat.close()])
  })

  test('a banned user is disconnected, cannot reconnect or get a join token; unban lets them back', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    const banned = await moderate(host, session.id, {
      action: 'ban',
      userId: viewer.userId,
    })
    expect(banned.status).toBe(200)
    expect((await viewerChat.closed).code).toBe(4003)
    expect(await refusedStatus(connect(viewer, session.id))).toBe(403)
    const token = await viewer.send(
      'POST',
      `/api/sessions/${session.id}/token`,
      {},
    )
    expect(token.status).toBe(403)
    expect(
      (
        await moderate(host, session.id, {
          action: 'unban',
          userId: viewer.userId,
        })
      ).status,
    ).toBe(200)
    const back = await connect(viewer, session.id)
    await back.close()
    expect(
      (await viewer.send('POST', `/api/sessions/${session.id}/token`, {}))
        .status,
    ).toBe(200)
    await hostChat.close()
  })

  test('blocked terms: the author sees the message, nobody else does', async () => {
    const host = await person('Host')
    const viewer = await person('Viewer')
    const saved = await host.send('PUT', '/api/me/blocked-terms', {
      terms: ['Crypto Scam'],
    })
    expect(saved.status).toBe(200)
    const session = await createSession(host)
    const hostChat = await connect(host, session.id)
    const viewerChat = await connect(viewer, session.id)
    viewerChat.send({ type: 'send', text: 'join my crypto scam now' })
    const held = (await viewerChat.waitFor(
      isMessage('join my crypto scam now'),
    )) as unknown as MessageFrame
    expect(held.message.isHeld).toBe(true)
    await say(viewerChat, 'a normal message')
    await hostChat.waitFor(isMessage('a normal message'))
    expect(hostChat.frames.some(isMessage('join my crypto scam now'))).toBe(
      false,
    )
    const late = await connect(host, session.id)
    await late.waitFor(isMessage('a normal message'))
    expect(late.frames.some(isMessage('join my crypto scam now'))).toBe(false)
    await Promise.all([hostChat, viewerChat, late].map((c) => c.close()))
  })

  test('questions: a viewer marks their message, the host sees it and marks it answered', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    const asked = await say(viewerChat, 'how does the borrow checker work?')
    const other = await say(hostChat, 'not yours')
    viewerChat.send({ type: 'question', id: other.message.id })
    await viewerChat.waitFor(isError('not_your_message'))
    viewerChat.send({ type: 'question', id: asked.message.id })
    await hostChat.waitFor(
      (f) =>
        f.type === 'question' &&
        f.id === asked.message.id &&
        f.isAnswered === false,
    )
    expect(
      (
        await moderate(viewer, session.id, {
          action: 'answer',
          messageId: asked.message.id,
        })
      ).status,
    ).toBe(403)
    expect(
      (
        await moderate(host, session.id, {
          action: 'answer',
          messageId: asked.message.id,
        })
      ).status,
    ).toBe(200)
    await viewerChat.waitFor(
      (f) =>
        f.type === 'question' &&
        f.id === asked.message.id &&
        f.isAnswered === true,
    )
    await Promise.all([viewerChat.close(), hostChat.close()])
  })
})

describe('hostile input', () => {
  test('HTML, script and javascript: links are stored as text; long, NUL, surrogates and huge frames are handled', async () => {
    const { viewerChat, hostChat } = await room()
    const html =
      '<img src=x onerror=alert(1)><script>alert(2)</script> [x](javascript:alert(3))'
    await say(viewerChat, html)
    viewerChat.send({ type: 'send', text: 'x'.repeat(501) })
    await viewerChat.waitFor(isError('message_too_long'))
    viewerChat.send({ type: 'send', text: 'x'.repeat(10_000) })
    await viewerChat.waitFor(isError('frame_too_large'))
    viewerChat.send({ type: 'send', text: '`'.repeat(1_000_000) })
    await viewerChat.waitFor(
      () => viewerChat.frames.filter(isError('frame_too_large')).length === 2,
      'the second refusal',
    )
    viewerChat.send({ type: 'send', text: 'a\u0000b\ud800c' })
    await hostChat.waitFor(isMessage('ab\ufffdc'))
    viewerChat.sendRaw('{"type":"send","text":')
    await viewerChat.waitFor(isError('bad_frame'))
    viewerChat.sendRaw(Buffer.from([1, 2, 3]))
    await new Promise((resolve) => setTimeout(resolve, 200))
    // Still connected and working after all of it.
    await say(viewerChat, 'still here')
    await Promise.all([viewerChat.close(), hostChat.close()])
  })
})

describe('the end of a session', () => {
  test('ending archives the chat to Postgres in one go; the host exports it, others cannot', async () => {
    const { host, viewer, session, viewerChat, hostChat } = await room()
    await say(viewerChat, 'first')
    const hidden = await say(hostChat, 'second (hidden)')
    await moderate(host, session.id, {
      action: 'hide',
      messageId: hidden.message.id,
    })
    expect(
      (await host.get(`/api/sessions/${session.id}/chat.json`)).status,
    ).toBe(409)
    const ended = await host.send('POST', `/api/sessions/${session.id}/end`, {})
    expect(ended.status).toBe(200)
    await viewerChat.waitFor((f) => f.type === 'ended')
    expect((await viewerChat.closed).code).toBe(1000)
    const rows = await stack.database.query<{ text: string; hidden: boolean }>(
      'SELECT text, hidden_at IS NOT NULL AS hidden FROM chat_messages WHERE session_id = $1 ORDER BY id',
      [session.id],
    )
    expect(rows).toEqual([
      { text: 'first', hidden: false },
      { text: 'second (hidden)', hidden: true },
    ])
    const exported = await host.get(`/api/sessions/${session.id}/chat.json`)
    expect(exported.status).toBe(200)
    const body = (await exported.json()) as {
      messages: Array<{ text: string }>
      moderation: Array<{ action: string; actorId: string }>
    }
    expect(body.messages.map((m) => m.text)).toEqual([
      'first',
      'second (hidden)',
    ])
    expect(body.moderation).toMatchObject([
      { action: 'hide', actorId: host.userId },
    ])
    expect(
      (await viewer.get(`/api/sessions/${session.id}/chat.json`)).status,
    ).toBe(403)
    const stranger = await person('Stranger')
    expect(
      (await stranger.get(`/api/sessions/${session.id}/chat.json`)).status,
    ).toBe(403)
    // The object keeps nothing after the archive, and nobody connects to an ended session.
    expect(await refusedStatus(connect(host, session.id))).toBe(410)
  })

  test('a session ended without the archive (abandoned) is archived by the scheduled job', async () => {
    const { host, session, viewerChat, hostChat } = await room()
    await say(viewerChat, 'left behind')
    // The host deletes their account: their sessions end inside that transaction, no archive yet.
    const me = (await (await host.get('/api/me')).json()) as {
      user: { username: string }
    }
    const deleted = await host.send('DELETE', '/api/me', {
      confirm: me.user.username,
    })
    expect(deleted.status, await deleted.clone().text()).toBe(204)
    const [before] = await stack.database.query<{ archived: boolean }>(
      'SELECT chat_archived_at IS NOT NULL AS archived FROM live_sessions WHERE id = $1',
      [session.id],
    )
    expect(before!.archived).toBe(false)
    expect((await stack.workers.scheduled('*/10 * * * *')).outcome).toBe('ok')
    const rows = await stack.database.query<{ text: string }>(
      'SELECT text FROM chat_messages WHERE session_id = $1',
      [session.id],
    )
    expect(rows).toEqual([{ text: 'left behind' }])
    await viewerChat.waitFor((f) => f.type === 'ended')
    await hostChat.closed
  })
})
