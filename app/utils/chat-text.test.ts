import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { normalizeChatText, parseChatText, type ChatBlock } from './chat-text'

const paragraph = (...content: unknown[]) => ({ type: 'paragraph', content })
const text = (value: string) => ({ type: 'text', text: value })
const code = (value: string) => ({ type: 'code', text: value })
const link = (value: string, href = value) => ({
  type: 'link',
  text: value,
  href,
})

describe('parseChatText', () => {
  test('plain text is one paragraph per blank-line-separated run, line breaks kept', () => {
    expect(parseChatText('hello\nworld\n\n\nagain')).toEqual([
      paragraph(text('hello\nworld')),
      paragraph(text('again')),
    ])
    expect(parseChatText('')).toEqual([])
  })

  test('inline code between matching backtick runs', () => {
    expect(parseChatText('run `npm test` now')).toEqual([
      paragraph(text('run '), code('npm test'), text(' now')),
    ])
  })

  test('backticks inside inline code: a longer run holds shorter ones', () => {
    expect(parseChatText('use `` a`b `` here')).toEqual([
      paragraph(text('use '), code('a`b'), text(' here')),
    ])
    expect(parseChatText('```x``` and `y`')).toEqual([
      paragraph(code('x'), text(' and '), code('y')),
    ])
  })

  test('an unmatched backtick is literal text', () => {
    expect(parseChatText("it`s fine, isn't it")).toEqual([
      paragraph(text("it`s fine, isn't it")),
    ])
    expect(parseChatText('a `` b ` c')).toEqual([paragraph(text('a `` b ` c'))])
  })

  test('fenced code with a language tag', () => {
    expect(
      parseChatText('look:\n```ts\nconst a = `x`\n  indented\n```\nnice'),
    ).toEqual([
      paragraph(text('look:')),
      { type: 'code', language: 'ts', text: 'const a = `x`\n  indented' },
      paragraph(text('nice')),
    ])
  })

  test('fenced code without a language, and a tag that is not a plain label', () => {
    expect(parseChatText('```\n<b>x</b>\n```')).toEqual([
      { type: 'code', language: null, text: '<b>x</b>' },
    ])
    expect(parseChatText('```<script>\nx\n```')).toEqual([
      { type: 'code', language: null, text: 'x' },
    ])
  })

  test('a closing fence needs at least as many backticks as the opening one', () => {
    expect(parseChatText('````\n```\nstill code\n````')).toEqual([
      { type: 'code', language: null, text: '```\nstill code' },
    ])
  })

  test('an unterminated fence is code to the end of the message', () => {
    expect(parseChatText('see\n```py\nprint(1)\n\nprint(2)')).toEqual([
      paragraph(text('see')),
      { type: 'code', language: 'py', text: 'print(1)\n\nprint(2)' },
    ])
  })

  test('http(s) URLs become links; trailing punctuation stays text', () => {
    expect(
      parseChatText('docs: https://example.com/a?b=1. Or (http://x.dev/p)!'),
    ).toEqual([
      paragraph(
        text('docs: '),
        link('https://example.com/a?b=1'),
        text('. Or ('),
        link('http://x.dev/p'),
        text(')!'),
      ),
    ])
  })

  test('balanced parentheses belong to the URL; the href is normalised', () => {
    expect(
      parseChatText(
        'https://en.wikipedia.org/wiki/Foo_(bar), HTTPS://Bücher.example',
      ),
    ).toEqual([
      paragraph(
        link('https://en.wikipedia.org/wiki/Foo_(bar)'),
        text(', '),
        link('HTTPS://Bücher.example', 'https://xn--bcher-kva.example/'),
      ),
    ])
  })

  test('javascript:, data: and other schemes stay plain text', () => {
    for (const hostile of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'ftp://example.com',
      'xhttp://example.com',
      'http://',
      'https://javascript:alert(1)',
    ]) {
      expect(parseChatText(hostile)).toEqual([paragraph(text(hostile))])
    }
  })

  test('no link inside code', () => {
    expect(parseChatText('`https://example.com`')).toEqual([
      paragraph(code('https://example.com')),
    ])
  })

  test('HTML and entities are literal text', () => {
    for (const literal of [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '&lt;b&gt; &amp; &#x3C;',
    ]) {
      expect(parseChatText(literal)).toEqual([paragraph(text(literal))])
    }
  })

  test('10,000 characters, of text and of a URL, are kept whole', () => {
    const long = 'a'.repeat(10_000)
    expect(parseChatText(long)).toEqual([paragraph(text(long))])
    const url = `https://example.com/${'a'.repeat(10_000)}`
    expect(parseChatText(url)).toEqual([paragraph(text(url))])
  })

  test('a million backticks complete: on their own, inline, and in runs of every length', () => {
    const million = '`'.repeat(1_000_000)
    expect(parseChatText(million)).toEqual([
      { type: 'code', language: null, text: '' },
    ])
    expect(parseChatText(`x ${million}`)).toEqual([
      paragraph(text(`x ${million}`)),
    ])
    // Runs of 1, 2, 3, … backticks, none closed: the quadratic case for a naive closer search.
    const runs = Array.from({ length: 1400 }, (_, i) => '`'.repeat(i + 1))
    const staircase = `x ${runs.join('a')}`
    expect(parseChatText(staircase)).toEqual([paragraph(text(staircase))])
    const alternating = 'x ' + '` '.repeat(500_000)
    expect(parseChatText(alternating)).toHaveLength(1)
    const closers = 'x ' + ')'.repeat(100_000)
    expect(parseChatText(`https://a.io/${closers}`)).toHaveLength(1)
  })

  test('lone surrogates and NUL neither throw nor vanish', () => {
    expect(parseChatText('a\ud800b `\udc00` \u0000')).toEqual([
      paragraph(text('a\ud800b '), code('\udc00'), text(' \u0000')),
    ])
    expect(parseChatText('https://a.io/\ud800')).toEqual([
      paragraph(link('https://a.io/\ud800', 'https://a.io/%EF%BF%BD')),
    ])
  })

  const pieces = [
    ...'\n \t()[].,!?<>"\'hHtps:/xa&;\u0000\r\ud800\udc00'.split(''),
    'http://',
    'https://a.io',
    'javascript:',
  ]
  const messageOf = (alphabet: string[]) =>
    fc
      .array(fc.constantFrom(...alphabet), { maxLength: 80 })
      .map((parts) => parts.join(''))
  const inlines = (blocks: ChatBlock[]) =>
    blocks.flatMap((block) => (block.type === 'paragraph' ? block.content : []))

  test('any text: no throw, and every link is http(s) with a host', () => {
    fc.assert(
      fc.property(messageOf([...pieces, '`', '```']), (message) => {
        const hrefs = inlines(parseChatText(message)).flatMap((inline) =>
          inline.type === 'link' ? [inline.href] : [],
        )
        expect(hrefs.filter((href) => !/^https?:\/\/[^/]/.test(href))).toEqual(
          [],
        )
      }),
    )
  })

  test('text without backticks keeps every visible character', () => {
    fc.assert(
      fc.property(messageOf(pieces), (message) => {
        const shown = inlines(parseChatText(message))
          .map((inline) => inline.text)
          .join('')
        expect(shown.replace(/\s/g, '')).toBe(message.replace(/\s/g, ''))
      }),
    )
  })

  test('Windows line breaks are line breaks', () => {
    expect(parseChatText('```js\r\nx\r\n```')).toEqual([
      { type: 'code', language: 'js', text: 'x' },
    ])
  })
})

describe('normalizeChatText', () => {
  test('trims, and keeps tabs and single line breaks', () => {
    expect(normalizeChatText('  \n hi\tthere\nyou \n ')).toBe('hi\tthere\nyou')
  })

  test('strips NUL and the other control characters, but not \\n or \\t', () => {
    expect(normalizeChatText('a\u0000b\u0007c\u001bd\u007fe\u0085f\t\ng')).toBe(
      'abcdef\t\ng',
    )
  })

  test('turns \\r\\n and \\r into \\n', () => {
    expect(normalizeChatText('a\r\nb\rc')).toBe('a\nb\nc')
  })

  test('replaces lone surrogates with U+FFFD and keeps pairs', () => {
    expect(normalizeChatText('\ud800a\udc00b😀c\ud83d')).toBe(
      '\ufffda\ufffdb😀c\ufffd',
    )
  })

  test('collapses more than two blank lines to two', () => {
    expect(normalizeChatText('a\n\n\n\n\n  \n\t\nb\n\nc\n\n\nd')).toBe(
      'a\n\n\nb\n\nc\n\n\nd',
    )
  })

  test('an all-whitespace or all-control message normalises to empty', () => {
    expect(normalizeChatText(' \u0000\n\n ')).toBe('')
    expect(normalizeChatText('\u0000\u0001\r\n\t ')).toBe('')
  })

  test('completes on a million backticks and 10,000 lone surrogates', () => {
    expect(normalizeChatText('`'.repeat(1_000_000))).toHaveLength(1_000_000)
    expect(normalizeChatText('\udc00'.repeat(10_000))).toBe(
      '\ufffd'.repeat(10_000),
    )
  })
})
