// Chat messages are plain text with a few rules of our own (SPEC §2a): inline code, fenced code
// blocks and http(s) links. This module turns text into data; the page renders the data as React
// text, so no HTML in a message can ever reach the page. Every step is a single forward scan (no
// backtracking regexes): a message is hostile input and a million backticks must cost linear time.

export type ChatInline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  /** `text` is what the author wrote; `href` is the parsed, normalised http(s) URL. */
  | { type: 'link'; text: string; href: string }

export type ChatBlock =
  | { type: 'paragraph'; content: ChatInline[] }
  | { type: 'code'; language: string | null; text: string }

const BACKTICK = 96 // '`'
const SPACE = 32
// A language tag is a short label, never markup: anything else is dropped.
const LANGUAGE = /^[\w#+.-]{1,32}$/
// Longer "URLs" are left as text: a link nobody can read is not worth a click-through.
const MAX_URL_LENGTH = 2048

/** Splits a message into paragraphs and fenced code blocks. Never throws; linear in the text's length. */
export function parseChatText(text: string): ChatBlock[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const blocks: ChatBlock[] = []
  let paragraph: string[] = []
  const endParagraph = () => {
    if (paragraph.length > 0) {
      blocks.push({
        type: 'paragraph',
        content: parseInline(paragraph.join('\n')),
      })
      paragraph = []
    }
  }

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const fence = openingFence(line)
    if (fence) {
      endParagraph()
      const code: string[] = []
      // An unterminated fence runs to the end of the message.
      for (i++; i < lines.length && !isClosingFence(lines[i]!, fence.size); i++)
        code.push(lines[i]!)
      blocks.push({
        type: 'code',
        language: fence.language,
        text: code.join('\n'),
      })
    } else if (line.trim() === '') {
      endParagraph()
    } else {
      paragraph.push(line)
    }
  }
  endParagraph()
  return blocks
}

/** Up to 3 spaces, then 3 or more backticks, then an optional info string without backticks (CommonMark). */
function openingFence(
  line: string,
): { size: number; language: string | null } | null {
  const start = indent(line)
  if (start > 3) return null
  const size = backtickRun(line, start)
  if (size < 3) return null
  const info = line.slice(start + size)
  // "```code```" on one line is inline code, not a fence.
  if (info.includes('`')) return null
  const tag = info.trim().split(/\s/, 1)[0] ?? ''
  return { size, language: LANGUAGE.test(tag) ? tag : null }
}

function isClosingFence(line: string, size: number): boolean {
  const start = indent(line)
  if (start > 3) return false
  const run = backtickRun(line, start)
  return run >= size && line.slice(start + run).trim() === ''
}

function indent(line: string): number {
  let i = 0
  while (i < line.length && line.charCodeAt(i) === SPACE) i++
  return i
}

function backtickRun(text: string, from: number): number {
  let i = from
  while (i < text.length && text.charCodeAt(i) === BACKTICK) i++
  return i - from
}

/**
 * Inline code: a run of N backticks closed by the next run of exactly N (CommonMark). The runs
 * are listed once and each length keeps a cursor that only moves forward, so finding closers costs
 * linear time in total however the backticks are arranged.
 */
function parseInline(text: string): ChatInline[] {
  const runs: { start: number; size: number }[] = []
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === BACKTICK) {
      const size = backtickRun(text, i)
      runs.push({ start: i, size })
      i += size
    } else i++
  }
  const bySize = new Map<number, number[]>()
  runs.forEach((run, index) => {
    const list = bySize.get(run.size)
    if (list) list.push(index)
    else bySize.set(run.size, [index])
  })
  const cursors = new Map<number, number>()

  const content: ChatInline[] = []
  let textStart = 0
  for (let r = 0; r < runs.length; r++) {
    const opener = runs[r]!
    const candidates = bySize.get(opener.size)!
    let cursor = cursors.get(opener.size) ?? 0
    while (cursor < candidates.length && candidates[cursor]! <= r) cursor++
    cursors.set(opener.size, cursor)
    const closerIndex = candidates[cursor]
    // No closer: these backticks are literal text.
    if (closerIndex === undefined) continue
    const closer = runs[closerIndex]!
    pushText(content, text.slice(textStart, opener.start))
    content.push({
      type: 'code',
      text: codeSpan(text.slice(opener.start + opener.size, closer.start)),
    })
    textStart = closer.start + closer.size
    r = closerIndex
  }
  pushText(content, text.slice(textStart))
  return content
}

/** CommonMark: line breaks become spaces; one space each side is padding when both are there. */
function codeSpan(raw: string): string {
  const code = raw.replace(/\n/g, ' ')
  return code.length > 2 &&
    code.startsWith(' ') &&
    code.endsWith(' ') &&
    code.trim() !== ''
    ? code.slice(1, -1)
    : code
}

/** Plain text, with http(s) URLs found in it turned into links. */
function pushText(content: ChatInline[], text: string) {
  let plainStart = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code !== 104 && code !== 72) continue // 'h' or 'H'
    if (i > 0 && isWordChar(text.charCodeAt(i - 1))) continue
    const scheme = text.slice(i, i + 8).toLowerCase()
    const schemeLength = scheme.startsWith('https://')
      ? 8
      : scheme.startsWith('http://')
        ? 7
        : 0
    if (schemeLength === 0) continue
    const end = urlEnd(text, i)
    const href = end - i > schemeLength ? httpUrl(text.slice(i, end)) : null
    if (href === null) {
      i = end - 1
      continue
    }
    if (i > plainStart)
      content.push({ type: 'text', text: text.slice(plainStart, i) })
    content.push({ type: 'link', text: text.slice(i, end), href })
    plainStart = end
    i = end - 1
  }
  if (plainStart < text.length)
    content.push({ type: 'text', text: text.slice(plainStart) })
}

function isWordChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95
  )
}

/** A URL runs to whitespace or a delimiter; trailing punctuation and unbalanced closers are the sentence's. */
function urlEnd(text: string, start: number): number {
  // Per closer, opened minus closed: below zero at the end means the sentence closed it, not the URL.
  const depth: Record<string, number> = { ')': 0, ']': 0, '}': 0 }
  let end = start
  for (; end < text.length && !isUrlStop(text.charCodeAt(end)); end++) {
    const char = text[end]!
    if (char in depth) depth[char]!--
    else if (char in CLOSER) depth[CLOSER[char]!]!++
  }
  // The scheme is never trimmed, so `last` is always a character of the candidate.
  for (;;) {
    const last = text[end - 1]!
    if ('.,:;!?\'"*'.includes(last)) end--
    else if (last in depth && depth[last]! < 0) {
      depth[last]!++
      end--
    } else return end
  }
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' }

function isUrlStop(code: number): boolean {
  // Whitespace, controls, quotes and angle brackets, the backtick, and Unicode spaces.
  return (
    code <= SPACE ||
    code === 34 ||
    code === 60 ||
    code === 62 ||
    code === BACKTICK ||
    code === 0x7f ||
    code === 0xa0 ||
    (code >= 0x2000 && code <= 0x200b) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x3000
  )
}

/** The normalised URL when `candidate` is an http(s) URL with a host, else null. */
function httpUrl(candidate: string): string | null {
  if (candidate.length > MAX_URL_LENGTH) return null
  try {
    const url = new URL(candidate)
    // The scanner only starts at http(s)://; checked again so a change there cannot let another scheme through.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    return url.hostname === '' ? null : url.href
  } catch {
    return null
  }
}

/**
 * The text the server stores: line breaks as \n, no control characters but \n and \t, no lone
 * surrogates (U+FFFD instead), at most two blank lines in a row, trimmed. The caller checks the length.
 */
export function normalizeChatText(text: string): string {
  const cleaned = wellFormed(
    text
      .replace(/\r\n?/g, '\n')
      // C0 controls except \t and \n, DEL and the C1 controls: invisible, and never chat.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ''),
  )
  const lines: string[] = []
  let blankRun = 0
  for (const line of cleaned.split('\n')) {
    if (line.trim() === '') {
      blankRun++
      if (blankRun <= 2) lines.push('')
    } else {
      blankRun = 0
      lines.push(line)
    }
  }
  return lines.join('\n').trim()
}

/** Replaces every unpaired surrogate with U+FFFD (String.prototype.toWellFormed, ES2024). */
function wellFormed(text: string): string {
  let out = ''
  let copied = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0xd800 || code > 0xdfff) continue
    const next = text.charCodeAt(i + 1)
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++
      continue
    }
    out += text.slice(copied, i) + '\ufffd'
    copied = i + 1
  }
  return copied === 0 ? text : out + text.slice(copied)
}
