import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for Twilio's Messages API (reference/twilio-sms.md), as an HTTP server on loopback:
 * it checks HTTP Basic auth and the form body like Twilio does, answers with Twilio's shapes, and
 * keeps what was sent. `failNext` makes the next send fail with a Twilio error.
 */
export interface FakeTwilio {
  url: string
  accountSid: string
  authToken: string
  messages: Array<{
    to: string
    from: string | null
    messagingServiceSid: string | null
    body: string
  }>
  failNext(status: number, code: number, message: string): void
  close(): Promise<void>
}

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = 'AC' + 'f'.repeat(32)
  const authToken = 'fake-twilio-auth-token-0123456789'
  const messages: FakeTwilio['messages'] = []
  let failure: { status: number; code: number; message: string } | null = null

  const error = (
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
  ) => {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(
      JSON.stringify({
        code,
        message,
        more_info: `https://www.twilio.com/docs/errors/${code}`,
        status,
      }),
    )
  }

  const server = createServer(
    async (req: IncomingMessage, res: ServerResponse) => {
      const body = await new Promise<string>((resolve) => {
        let data = ''
        req.on('data', (chunk) => (data += chunk))
        req.on('end', () => resolve(data))
      })
      const expectedPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`
      if (req.method !== 'POST' || req.url !== expectedPath)
        return error(res, 404, 20404, 'The requested resource was not found')
      const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`
      if (req.headers.authorization !== expectedAuth)
        return error(res, 401, 20003, 'Authenticate')
      if (
        !String(req.headers['content-type']).startsWith(
          'application/x-www-form-urlencoded',
        )
      ) {
        return error(
          res,
          400,
          20001,
          'Content-Type must be application/x-www-form-urlencoded',
        )
      }
      if (failure) {
        const { status, code, message } = failure
        failure = null
        return error(res, status, code, message)
      }
      const form = new URLSearchParams(body)
      const to = form.get('To') ?? ''
      if (!/^\+[1-9]\d{7,14}$/.test(to))
        return error(
          res,
          400,
          21211,
          `The 'To' number ${to} is not a valid phone number.`,
        )
      const from = form.get('From')
      const messagingServiceSid = form.get('MessagingServiceSid')
      if (!from === !messagingServiceSid)
        return error(
          res,
          400,
          21603,
          "A 'From' or 'MessagingServiceSid' parameter is required",
        )
      const text = form.get('Body') ?? ''
      if (!text) return error(res, 400, 21602, 'Message body is required.')
      messages.push({ to, from, messagingServiceSid, body: text })
      const now = new Date().toUTCString().replace('GMT', '+0000')
      res.writeHead(201, { 'Content-Type': 'application/json' })
      res.end(
        JSON.stringify({
          sid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
          account_sid: accountSid,
          messaging_service_sid: messagingServiceSid,
          to,
          from,
          body: text,
          status: messagingServiceSid ? 'accepted' : 'queued',
          num_segments: '1',
          num_media: '0',
          direction: 'outbound-api',
          api_version: '2010-04-01',
          price: null,
          price_unit: null,
          error_code: null,
          error_message: null,
          date_created: now,
          date_updated: now,
          date_sent: null,
          uri: `${expectedPath.replace('.json', '')}/SM.json`,
          subresource_uris: {
            media: `${expectedPath.replace('.json', '')}/SM/Media.json`,
          },
        }),
      )
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    failNext(status, code, message) {
      failure = { status, code, message }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
