const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether `value` is a UUID: ids from URLs are checked before they reach a uuid column (a 404, not a 500). */
export const isUuid = (value: string) => UUID.test(value)
