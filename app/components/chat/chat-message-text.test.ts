import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, test } from 'vitest'
import { ChatMessageText } from './chat-message-text'

const render = (text: string) =>
  renderToStaticMarkup(createElement(ChatMessageText, { text }))

// What reaches the page: the server-rendered markup of a message, the same tree the browser hydrates.
describe('ChatMessageText', () => {
  test('HTML in a message comes out as escaped text, in paragraphs and in code', () => {
    const html = render(
      '<script>alert(1)</script> <img src=x onerror=alert(1)> `<b>` &amp;\n\n```html\n<script>alert(2)</script>\n```',
    )
    expect(html).not.toMatch(/<script|<img|<b>/i)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('<code>&lt;b&gt;</code>')
    expect(html).toContain('&amp;amp;')
    expect(html).toContain(
      '<pre tabindex="0"><code>&lt;script&gt;alert(2)&lt;/script&gt;</code></pre>',
    )
  })

  test('no href at all before the click-through, and never a javascript: one', () => {
    const html = render(
      'javascript:alert(1) [x](javascript:alert(1)) https://example.com/a data:text/html,x',
    )
    expect(html).not.toContain('href')
    expect(html).toContain(
      '<button type="button" class="chat-link" aria-expanded="false"',
    )
    expect(html).toContain('>https://example.com/a</button>')
  })

  test('a code block has its language, a labelled copy button and a status', () => {
    const html = render('```ts\nconst a = 1\n```')
    expect(html).toContain('<span>ts</span>')
    expect(html).toContain('aria-label="Copy code"')
    expect(html).toContain('role="status"')
    expect(html).toContain('<pre tabindex="0"><code>const a = 1</code></pre>')
  })
})
