import * as z from 'zod'
import { verifySignInCode } from '../models/sign-in.server'
import { toMe } from '../models/users.server'
import { apiRoute, json } from '../utils/api.server'
import { getDb } from '../utils/context.server'
import { parseJson, requestClient } from '../utils/request.server'
import { OtpCode, Phone } from '../utils/validation'

const VerifyCodeInput = z.object({ phone: Phone, code: OtpCode })

export const { loader, action } = apiRoute({
  async POST({ request, context }) {
    const { phone, code } = await parseJson(request, VerifyCodeInput)
    const signIn = await verifySignInCode(getDb(context), context, {
      phone,
      code,
      client: requestClient(request),
      otpSecret: context.env.OTP_SECRET,
      replacing: await context.session.id(),
    })
    return json(
      { user: toMe(signIn.user), needsProfile: signIn.needsProfile },
      {
        headers: {
          'Set-Cookie': await context.session.commit(signIn.sessionId),
        },
      },
    )
  },
})
