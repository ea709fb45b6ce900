// What both pages share: calls to the service, the drop zone, and the result card.
import { formatTime, pick, t } from './i18n.js';
import { sha256File } from './eth.js';

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.field = error.field;
  }
}

/** A call to the service's API; with the session cookie, state changes carry X-Requested-With. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Requested-With'] = 'govchain-registry';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({ error: { code: 'http', message: response.statusText } }));
  if (!response.ok) throw new ApiError(response.status, answer.error || { code: 'http', message: response.statusText });
  return answer;
}

export const HASH = /^(0x)?[0-9a-fA-F]{64}$/;

export function element(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') el.textContent = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** A file drop zone: a <label> for a (visually hidden, focusable) <input type=file>, so that the
 * keyboard (Tab, Enter/Space), a click and drag-and-drop all work. */
export function dropZone(input, onFile) {
  const zone = document.querySelector(`label[for="${input.id}"]`);
  input.addEventListener('change', () => input.files[0] && onFile(input.files[0]));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) onFile(file);
  });
}

export async function hashOf(file, say) {
  say(t('verify.hashing'));
  return sha256File(file);
}

const ICONS = { valid: '✓', expired: '⌛', revoked: '✗', superseded: '↻', unknown: '?', pending: '…' };

function cityName(city) {
  return city ? city.charAt(0).toUpperCase() + city.slice(1) : '';
}

/** The result card: the status in words, colour and icon, the issuer, the dates and the proof. */
export function resultCard(answer, { headingLevel = 'h2', showQr = false } = {}) {
  const status = answer.status;
  const city = cityName(answer.city);
  const card = element('article', { class: `card status-${status}`, 'data-status': status });
  card.append(
    element(
      headingLevel,
      { class: 'status-line' },
      element('span', { class: 'icon', 'aria-hidden': 'true', text: ICONS[status] || '?' }),
      element('span', { class: 'status-word', text: t(`status.${status}`) }),
    ),
    element('p', { class: 'explain', text: t(`explain.${status}`, { city }) }),
  );
  const list = element('dl');
  const row = (key, value, code = false) => {
    if (value === undefined || value === null || value === '') return;
    list.append(element('dt', { text: t(key) }), element('dd', {}, element(code ? 'code' : 'span', { text: value })));
  };
  if (status !== 'unknown') {
    row('field.city', city);
    row('field.register', pick(answer.registerTypeLabel));
    row('field.issuedAt', formatTime(answer.issuedAt));
    row('field.validUntil', formatTime(answer.validUntil));
    row('field.clerk', answer.clerk, true);
    if (answer.recordedAt) row('field.recordedAt', formatTime(answer.recordedAt));
    if (answer.closed) {
      row('field.closedAt', formatTime(answer.closed.at));
      row('field.reason', pick(answer.closed.reasonLabel));
      if (answer.closed.successor) {
        const hex = answer.closed.successor.replace(/^0x/, '');
        list.append(
          element('dt', { text: t('field.successor') }),
          element('dd', {}, element('a', { href: `/verify/${hex}`, text: hex.slice(0, 16) + '…' })),
        );
      }
    }
  }
  row('field.hash', answer.documentHash.replace(/^0x/, ''), true);
  card.append(list);
  if (answer.pendingChange) {
    card.append(element('p', { class: 'pending-note', text: t(`field.pendingChange.${answer.pendingChange}`) }));
  }
  const actions = element('p', { class: 'actions' });
  if (answer.proof) {
    actions.append(element('a', { class: 'button', href: answer.proof, download: true, text: t('proof.download') }));
  }
  card.append(actions);
  if (showQr && answer.qr) {
    const figure = element(
      'figure',
      { class: 'qr' },
      element('img', { src: answer.qr.svg, alt: t('qr.alt'), width: '180', height: '180' }),
      element(
        'figcaption',
        {},
        element('a', { href: answer.qr.png, download: 'qr.png', text: t('qr.png') }),
        ' · ',
        element('a', { href: answer.qr.svg, download: 'qr.svg', text: t('qr.svg') }),
        ' · ',
        element('a', { href: answer.verifyUrl, target: '_blank', rel: 'noopener', text: t('proof.open') }),
      ),
    );
    card.append(figure);
  }
  return card;
}

export function message(text, kind = 'info') {
  return element('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : undefined, text });
}

export function errorText(error) {
  return error instanceof ApiError ? error.message : String(error && error.message ? error.message : error);
}
