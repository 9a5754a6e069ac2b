import * as z from 'zod'
import { OTP_TTL_MINUTES } from '../models/otp.server'
import { requestSignInCode } from '../models/sign-in.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson, requestClient } from '../utils/request.server'
import { Phone } from '../utils/validation'

const SendCodeInput = z.object({ phone: Phone })

export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    const { phone } = await parseJson(request, SendCodeInput)
    await requestSignInCode(getDb(context), context, {
      phone,
      client: requestClient(request),
      otpSecret: context.env.OTP_SECRET,
      allowedCountries: context.env.SMS_ALLOWED_COUNTRIES,
    })
    return json(
      { sent: true, expiresInSeconds: OTP_TTL_MINUTES * 60 },
      { status: 202 },
    )
  },
})
