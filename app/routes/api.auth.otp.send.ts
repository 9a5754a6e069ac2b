import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import * as z from 'zod'
import { OTP_TTL_MINUTES } from '../models/otp.server'
import { apiHandler, json, onlyMethod } from '../utils/api.server'
import { requestSignInCode } from '../utils/auth.server'
import { requireMethod } from '../utils/http.server'
import { parseJson } from '../utils/request.server'
import { Phone } from '../utils/validation'

const SendCodeInput = z.object({ phone: Phone })

export const loader = onlyMethod('POST')

export const action = apiHandler(
  async ({ request, context }: ActionFunctionArgs) => {
    requireMethod(request, 'POST')
    const { phone } = await parseJson(request, SendCodeInput)
    await requestSignInCode(request, context, phone)
    return json(
      { sent: true, expiresInSeconds: OTP_TTL_MINUTES * 60 },
      { status: 202 },
    )
  },
)
