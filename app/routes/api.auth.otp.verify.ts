import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import * as z from 'zod'
import { toMe } from '../models/users.server'
import { apiHandler, json, onlyMethod } from '../utils/api.server'
import { verifySignInCode } from '../utils/auth.server'
import { requireMethod } from '../utils/http.server'
import { parseJson } from '../utils/request.server'
import { commitSessionCookie } from '../utils/session.server'
import { OtpCode, Phone } from '../utils/validation'

const VerifyCodeInput = z.object({ phone: Phone, code: OtpCode })

export const loader = onlyMethod('POST')

export const action = apiHandler(
  async ({ request, context }: ActionFunctionArgs) => {
    requireMethod(request, 'POST')
    const input = await parseJson(request, VerifyCodeInput)
    const { user, sessionId, needsProfile } = await verifySignInCode(
      request,
      context,
      input,
    )
    return json(
      { user: toMe(user), needsProfile },
      {
        headers: {
          'Set-Cookie': await commitSessionCookie(request, context, sessionId),
        },
      },
    )
  },
)
