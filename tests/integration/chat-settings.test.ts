import { describe, expect, test } from 'vitest'
import { signUp, type TestClient } from '../support/auth'
import { BASE_URL, useWorkersOnTestDatabase } from '../support/workers'

// The "Blocked chat terms" form on /settings (SPEC §2a), posted as a browser without JavaScript
// posts it, checked in the database and on the page.
const stack = useWorkersOnTestDatabase()

let counter = 0
async function host(): Promise<TestClient> {
  counter += 1
  return signUp(stack.workers, {
    ip: `198.18.7.${counter}`,
    profile: {
      username: `terms${Date.now() % 1e7}${counter}`,
      displayName: 'Term Keeper',
    },
  })
}

function postForm(cookie: string, fields: Record<string, string>) {
  return stack.workers.app('/settings', {
    method: 'POST',
    headers: {
      Cookie: cookie,
      Origin: BASE_URL,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  })
}

async function storedTerms(userId: string): Promise<string[]> {
  const rows = await stack.database.query<{ term: string }>(
    'SELECT term FROM chat_blocked_terms WHERE host_id = $1 ORDER BY term',
    [userId],
  )
  return rows.map((row) => row.term)
}

describe('blocked chat terms on /settings', () => {
  test('a form post saves the terms, one per line, and the page shows them', async () => {
    const user = await host()
    const response = await postForm(user.cookie, {
      intent: 'blocked-terms',
      terms: 'Spoiler\r\n\r\n  crypto scam  \nspoiler\n',
    })
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('Your blocked terms are saved.')
    // Trimmed, lowercased, duplicates and blank lines dropped.
    expect(await storedTerms(user.userId)).toEqual(['crypto scam', 'spoiler'])

    const page = await (await user.get('/settings')).text()
    expect(page).toContain('Blocked chat terms')
    expect(page).toMatch(
      /<textarea[^>]*name="terms"[^>]*>crypto scam\nspoiler<\/textarea>/,
    )
    const api = await user.get('/api/me/blocked-terms')
    expect(await api.json()).toEqual({ terms: ['crypto scam', 'spoiler'] })

    // An empty list clears them.
    const cleared = await postForm(user.cookie, {
      intent: 'blocked-terms',
      terms: '\n',
    })
    expect(cleared.status).toBe(200)
    expect(await storedTerms(user.userId)).toEqual([])
  })

  test('101 terms are refused with the message at the field, and nothing changes', async () => {
    const user = await host()
    expect(
      (await postForm(user.cookie, { intent: 'blocked-terms', terms: 'keep' }))
        .status,
    ).toBe(200)

    const tooMany = Array.from({ length: 101 }, (_, i) => `term${i}`).join('\n')
    const response = await postForm(user.cookie, {
      intent: 'blocked-terms',
      terms: tooMany,
    })
    expect(response.status).toBe(400)
    const page = await response.text()
    expect(page).toContain(
      '<p id="terms-error" class="field-error">At most 100 terms.</p>',
    )
    expect(page).toMatch(
      /<textarea[^>]*aria-invalid="true"[^>]*aria-describedby="terms-error terms-hint"/,
    )
    // What was typed stays in the form, to be trimmed and sent again.
    expect(page).toContain('term100</textarea>')
    expect(await storedTerms(user.userId)).toEqual(['keep'])

    // Exactly 100 are fine.
    const hundred = await postForm(user.cookie, {
      intent: 'blocked-terms',
      terms: tooMany.split('\n').slice(0, 100).join('\n'),
    })
    expect(hundred.status).toBe(200)
    expect(await storedTerms(user.userId)).toHaveLength(100)
  })

  test('a term over 50 characters is refused at the field', async () => {
    const user = await host()
    const response = await postForm(user.cookie, {
      intent: 'blocked-terms',
      terms: `fine\n${'x'.repeat(51)}`,
    })
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('is longer than 50 characters.')
    expect(await storedTerms(user.userId)).toEqual([])
  })

  test('a post without the terms field is refused and clears nothing', async () => {
    const user = await host()
    await postForm(user.cookie, { intent: 'blocked-terms', terms: 'keep' })
    const response = await postForm(user.cookie, { intent: 'blocked-terms' })
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('Enter the terms, one per line.')
    expect(await storedTerms(user.userId)).toEqual(['keep'])
  })
})
