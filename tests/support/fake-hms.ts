import { afterAll, beforeAll } from 'vitest'
import { startFakeHms } from '../fakes/hms.mjs'

export type FakeHms = Awaited<ReturnType<typeof startFakeHms>>

/**
 * Registers vitest hooks for a fake 100ms on loopback, for a test file whose Workers talk to it:
 * `const fake = useFakeHms()`, then `useWorkersOnTestDatabase(() => ({ ...fake.vars(), … }))`.
 */
export function useFakeHms(options?: Parameters<typeof startFakeHms>[0]) {
  let started: FakeHms | undefined
  beforeAll(async () => {
    started = await startFakeHms(options)
  })
  afterAll(async () => {
    await started?.close()
  })
  const hms = (): FakeHms => {
    if (!started)
      throw new Error('the fake 100ms exists only once beforeAll ran')
    return started
  }
  return {
    get hms() {
      return hms()
    },
    /** The app Worker's variables that point it at this fake. */
    vars: () => ({
      HMS_API_BASE: hms().url,
      HMS_ACCESS_KEY: hms().accessKey,
      HMS_SECRET: hms().secret,
      HMS_TEMPLATE_ID: hms().templateId,
    }),
  }
}
