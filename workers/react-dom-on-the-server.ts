// What the app Worker gets for `import * as ReactDOM from 'react-dom'` (wrangler.toml [alias]).
//
// react-router-dom imports the browser's react-dom only for flushSync, which it calls while a
// browser navigates and which it replaces with a plain call when react-dom has none. The server
// renders with react-dom/server alone, so the 130 KiB browser renderer would be dead weight in
// the Worker (ADR 021). Nothing is exported: any other use would fail the build, not a request.
export {}
