/**
 * Tiny DOM helpers: build elements without innerHTML (every value from the API is text).
 */
const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `h('td', { class: 'num' }, '12')`; `on*` attributes add listeners. */
export const h = (tag, attrs, ...children) => fill(document.createElement(tag), attrs, children);

/** The same for SVG elements. */
export const s = (tag, attrs, ...children) =>
  fill(document.createElementNS(SVG_NS, tag), attrs, children);

/** Replaces the children of `el`. */
export function put(el, ...children) {
  el.replaceChildren();
  fill(el, null, children);
  return el;
}

/**
 * A table: `columns` = [{ label, num?, cell: (row) => node|text }]; `empty` is shown as one
 * row when there are no rows.
 */
export function table(columns, rows, { caption, empty = 'Nothing yet.', cls } = {}) {
  return h(
    'table',
    { class: cls ?? 'grid' },
    caption ? h('caption', null, caption) : null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.length === 0
        ? h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty))
        : rows.map((r) =>
            h(
              'tr',
              null,
              columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r))),
            ),
          ),
    ),
  );
}

/** An error box for a failed call: code, message and hint of the API's error body. */
export const errorBox = (err) =>
  h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', null, err.code ?? 'Error'),
    ' ',
    err.message ?? String(err),
    err.hint ? h('div', { class: 'hint' }, err.hint) : null,
  );

/** A small label/value card. */
export const stat = (label, value, note) =>
  h(
    'div',
    { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    note ? h('div', { class: 'stat-note' }, note) : null,
  );
