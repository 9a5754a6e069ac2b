import { useEffect, useId, useMemo, useRef, useState } from 'react'
import {
  parseChatText,
  type ChatBlock,
  type ChatInline,
} from '../../utils/chat-text'

/**
 * A chat message's text: paragraphs, inline code, fenced code blocks with a copy button, and links
 * that open only after a click-through (SPEC §2a). Everything is rendered as React text, never as HTML.
 */
export function ChatMessageText({ text }: { text: string }) {
  const blocks = useMemo(() => parseChatText(text), [text])
  return <div className="chat-text">{blocks.map(renderBlock)}</div>
}

function renderBlock(block: ChatBlock, index: number) {
  return block.type === 'code' ? (
    <ChatCodeBlock key={index} language={block.language} code={block.text} />
  ) : (
    <p key={index}>{block.content.map(renderInline)}</p>
  )
}

function renderInline(inline: ChatInline, index: number) {
  if (inline.type === 'code') return <code key={index}>{inline.text}</code>
  if (inline.type === 'link')
    return <ChatLink key={index} text={inline.text} href={inline.href} />
  return inline.text
}

function ChatCodeBlock({
  language,
  code,
}: {
  language: string | null
  code: string
}) {
  const [status, setStatus] = useState('')
  const timer = useRef<ReturnType<typeof setTimeout>>()
  useEffect(() => () => clearTimeout(timer.current), [])

  function announce(message: string) {
    clearTimeout(timer.current)
    setStatus(message)
    timer.current = setTimeout(() => setStatus(''), 2000)
  }

  function copy() {
    // Without a clipboard (an insecure origin, an old browser) the failure is said, not thrown.
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(code))
      .then(
        () => announce('Copied'),
        () => announce('Copy failed: select the code to copy it'),
      )
  }

  return (
    <div className="chat-code">
      <div className="chat-code-bar">
        <span>{language}</span>
        {/* Seen and announced; the button keeps its name ("Copy" inside "Copy code", WCAG 2.5.3). */}
        <span role="status">{status}</span>
        <button
          type="button"
          className="chat-code-copy"
          aria-label="Copy code"
          onClick={copy}
        >
          Copy
        </button>
      </div>
      {/* Focusable so a keyboard can scroll a long line or a tall block. */}
      <pre tabIndex={0}>
        <code>{code}</code>
      </pre>
    </div>
  )
}

/** A link is text first: the first click shows the full address and only then a real link to it. */
function ChatLink({ text, href }: { text: string; href: string }) {
  const [isOpen, setOpen] = useState(false)
  const id = useId()
  return (
    <>
      <button
        type="button"
        className="chat-link"
        aria-expanded={isOpen}
        aria-controls={id}
        onClick={() => setOpen(!isOpen)}
      >
        {text}
      </button>
      <span id={id} className="chat-link-reveal" hidden={!isOpen}>
        {isOpen ? (
          <>
            {' '}
            <span className="chat-link-url">{href}</span>{' '}
            <a href={href} target="_blank" rel="noopener noreferrer nofollow">
              Open link
            </a>
          </>
        ) : null}
      </span>
    </>
  )
}
