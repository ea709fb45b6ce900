// The clerks' page: sign in by signing a one-time challenge, attest an extract (hashed here, the
// record signed here), revoke or replace one, and read the city's log. The key stays in memory.
import { apply, formatTime, onLanguage, pick, setupSwitch, t } from './i18n.js';
import { HASH, api, dropZone, element, errorText, hashOf, message, resultCard } from './common.js';
import { addressOf, decryptKeystore, parsePrivateKey, signPersonal, signTyped, toHex } from './eth.js';

const $ = (id) => document.getElementById(id);
const state = { key: null, address: null, info: null, issueHash: null, draft: null, issued: null, managed: null };

function show(target, node) {
  $(target).replaceChildren(...(node ? [node] : []));
}

// ------------------------------------------------------------------ sign in

async function readKey() {
  const file = $('keystore').files[0];
  const hex = $('private-key').value.trim();
  if (hex) return parsePrivateKey(hex);
  if (!file) throw new Error(t('clerk.noKey'));
  const json = JSON.parse(await file.text());
  return decryptKeystore(json, $('password').value, (fraction) => {
    show('login-status', message(t('clerk.unlocking', { percent: Math.round(fraction * 100) })));
  });
}

async function login(event) {
  event.preventDefault();
  $('login-button').disabled = true;
  show('login-status', message(t('clerk.loggingIn')));
  try {
    let key;
    try {
      key = await readKey();
    } catch (error) {
      throw new Error(t('clerk.badKey', { message: error.message }));
    }
    const address = addressOf(key);
    const challenge = await api('/v1/auth/challenge', { method: 'POST', body: { address } });
    const signature = signPersonal(challenge.message, key);
    const session = await api('/v1/auth/login', { method: 'POST', body: { nonce: challenge.nonce, signature } });
    Object.assign(state, { key, address, session });
    $('private-key').value = '';
    $('password').value = '';
    $('keystore').value = '';
    show('login-status', null);
    $('login-section').hidden = true;
    $('work').hidden = false;
    renderWho();
    loadAudit();
  } catch (error) {
    show('login-status', message(errorText(error), 'error'));
  } finally {
    $('login-button').disabled = false;
  }
}

function renderWho() {
  if (!state.session) return;
  $('who').textContent = t('clerk.loggedIn', {
    clerk: state.address,
    city: state.info ? state.info.displayName : state.session.city,
    until: formatTime(state.session.expiresAt),
  });
}

async function logout() {
  try {
    await api('/v1/auth/logout', { method: 'POST' });
  } catch {
    /* the session may have expired already */
  }
  Object.assign(state, { key: null, address: null, session: null });
  $('work').hidden = true;
  $('login-section').hidden = false;
}

// ------------------------------------------------------------------ attest

function paddedType(name) {
  const bytes = new Uint8Array(32);
  bytes.set(new TextEncoder().encode(name));
  return toHex(bytes);
}

function sameDomain(a, b) {
  return (
    a.name === b.name &&
    a.version === b.version &&
    Number(a.chainId) === Number(b.chainId) &&
    a.verifyingContract.toLowerCase() === b.verifyingContract.toLowerCase()
  );
}

async function prepare(event) {
  event.preventDefault();
  show('issue-result', null);
  try {
    if (!state.issueHash) throw new Error(t('verify.badHash'));
    const type = $('register-type').value;
    const day = $('valid-until').value;
    const validUntil = day ? Math.floor(new Date(`${day}T23:59:59`).getTime() / 1000) : 0;
    const draft = await api('/v1/drafts', {
      method: 'POST',
      body: { documentHash: state.issueHash, registerType: type, subject: $('subject').value, validUntil },
    });
    const a = draft.attestation;
    const expected =
      a.documentHash === '0x' + state.issueHash &&
      a.clerk.toLowerCase() === state.address.toLowerCase() &&
      a.registerType === paddedType(type) &&
      a.validUntil === validUntil &&
      sameDomain(draft.typedData.domain, state.info.domain);
    if (!expected) throw new Error(t('clerk.draftMismatch'));
    state.draft = draft;
    renderConfirm();
    $('confirm').hidden = false;
    $('sign').focus();
  } catch (error) {
    show('issue-result', message(errorText(error), 'error'));
  }
}

function renderConfirm() {
  if (!state.draft) return;
  const a = state.draft.attestation;
  const type = state.info.registerTypes.find((r) => paddedType(r.name) === a.registerType);
  const rows = [
    ['field.hash', a.documentHash.slice(2)],
    ['field.register', type ? pick(type.label) : a.registerType],
    ['field.issuedAt', formatTime(a.issuedAt)],
    ['field.validUntil', formatTime(a.validUntil)],
    ['field.clerk', a.clerk],
  ];
  $('confirm-list').replaceChildren(
    ...rows.flatMap(([key, value]) => [element('dt', { text: t(key) }), element('dd', { text: value })]),
  );
}

async function sign() {
  const draft = state.draft;
  if (!draft) return;
  $('sign').disabled = true;
  try {
    const signature = signTyped(state.info.domain, 'Attestation', draft.attestation, state.key);
    const answer = await api('/v1/attestations', {
      method: 'POST',
      body: { attestation: draft.attestation, signature },
    });
    state.draft = null;
    $('confirm').hidden = true;
    $('issue-form').reset();
    $('issue-hash').textContent = '';
    state.issueHash = null;
    state.issued = answer;
    renderIssued();
    follow(answer.documentHash, 'issued', renderIssued);
    loadAudit();
  } catch (error) {
    show('issue-result', message(errorText(error), 'error'));
  } finally {
    $('sign').disabled = false;
  }
}

function renderIssued() {
  if (!state.issued) return;
  const wrap = element('div', {}, message(t('clerk.issued'), 'success'), resultCard(state.issued, { showQr: true }));
  show('issue-result', wrap);
}

/** Polls a document's status until `until` holds (at most a minute), re-rendering it. */
async function follow(documentHash, slot, render, until = (a) => a.status !== 'pending' && !a.pendingChange) {
  const hex = documentHash.replace(/^0x/, '');
  for (let i = 0; i < 120; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answer = await api(`/v1/verify/${hex}`).catch(() => null);
    if (!answer) continue;
    if (state[slot]?.documentHash !== answer.documentHash) return; // another document is shown now
    state[slot] = answer;
    render();
    if (until(answer)) {
      loadAudit();
      return;
    }
  }
}

// ------------------------------------------------------------------ revoke, replace

async function manage(hash) {
  show('manage-result', message(t('verify.looking')));
  $('revoke-form').hidden = true;
  $('supersede-form').hidden = true;
  try {
    state.managed = await api(`/v1/verify/${hash.replace(/^0x/i, '').toLowerCase()}`);
    renderManaged();
  } catch (error) {
    state.managed = null;
    show('manage-result', message(errorText(error), 'error'));
  }
}

function renderManaged() {
  const answer = state.managed;
  if (!answer) return;
  const open = ['valid', 'expired'].includes(answer.status) && answer.city === state.info.city && !answer.pendingChange;
  const card = resultCard(answer, { headingLevel: 'h3' });
  if (!open && answer.status !== 'unknown') card.append(message(t('clerk.notChangeable')));
  show('manage-result', card);
  $('revoke-form').hidden = !open;
  $('supersede-form').hidden = !open;
}

async function change(kind, event) {
  event.preventDefault();
  const answer = state.managed;
  if (!answer) return;
  const button = $(kind === 'revocation' ? 'revoke' : 'supersede');
  button.disabled = true;
  try {
    let body;
    if (kind === 'revocation') {
      const revocation = { documentHash: answer.documentHash, reason: Number($('revoke-reason').value), clerk: state.address };
      body = { revocation, signature: signTyped(state.info.domain, 'Revocation', revocation, state.key) };
      if ($('revoke-note').value.trim()) body.note = $('revoke-note').value.trim();
    } else {
      const file = $('successor-file').files[0];
      let successor = $('successor-hash').value.trim();
      if (file) successor = await hashOf(file, () => {});
      if (!HASH.test(successor)) throw new Error(t('verify.badHash'));
      const supersession = {
        documentHash: answer.documentHash,
        successorHash: '0x' + successor.replace(/^0x/i, '').toLowerCase(),
        reason: Number($('supersede-reason').value),
        clerk: state.address,
      };
      body = { supersession, signature: signTyped(state.info.domain, 'Supersession', supersession, state.key) };
      if ($('supersede-note').value.trim()) body.note = $('supersede-note').value.trim();
    }
    const path = kind === 'revocation' ? 'revocation' : 'supersession';
    state.managed = await api(`/v1/attestations/${answer.documentHash.slice(2)}/${path}`, { method: 'POST', body });
    $('revoke-form').reset();
    $('supersede-form').reset();
    renderManaged();
    $('manage-result').append(message(t('clerk.changeSent'), 'success'));
    follow(answer.documentHash, 'managed', renderManaged, (a) => !a.pendingChange);
    loadAudit();
  } catch (error) {
    $('manage-result').append(message(errorText(error), 'error'));
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ audit

let auditRows = [];

async function loadAudit() {
  try {
    auditRows = (await api('/v1/audit?limit=50')).items;
    renderAudit();
  } catch {
    /* shown again on the next refresh */
  }
}

function renderAudit() {
  const rows = auditRows.map((row) =>
    element(
      'tr',
      {},
      element('td', { text: formatTime(Math.floor(row.at)) }),
      element('td', { text: t(`action.${row.action}`) }),
      element('td', {}, element('code', { text: row.clerk.slice(0, 10) + '…' })),
      element(
        'td',
        {},
        row.documentHash
          ? element('a', { href: `/verify/${row.documentHash.slice(2)}`, text: row.documentHash.slice(2, 14) + '…' })
          : '',
      ),
      element('td', { text: row.state ? t(`state.${row.state}`) : '' }),
    ),
  );
  $('audit-table').tBodies[0].replaceChildren(...rows);
}

// ------------------------------------------------------------------ start

function fillSelects() {
  const options = (select, items, value, label) => {
    const chosen = select.value;
    select.replaceChildren(...items.map((item) => element('option', { value: value(item), text: label(item) })));
    if (chosen) select.value = chosen;
  };
  options($('register-type'), state.info.registerTypes, (r) => r.name, (r) => pick(r.label));
  options($('revoke-reason'), state.info.revocationReasons, (r) => r.code, (r) => pick(r.label));
  options($('supersede-reason'), state.info.supersessionReasons, (r) => r.code, (r) => pick(r.label));
}

async function main() {
  apply();
  setupSwitch($('lang-switch'));
  state.info = await api('/v1/info');
  $('city-name').textContent = state.info.displayName;
  fillSelects();
  onLanguage(() => {
    fillSelects();
    renderWho();
    renderConfirm();
    renderIssued();
    renderManaged();
    renderAudit();
  });
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  dropZone($('issue-file'), async (file) => {
    state.issueHash = await hashOf(file, (text) => ($('issue-hash').textContent = text));
    $('issue-hash').textContent = `${file.name} · SHA-256 ${state.issueHash.slice(0, 16)}…`;
  });
  $('issue-form').addEventListener('submit', prepare);
  $('sign').addEventListener('click', sign);
  $('cancel').addEventListener('click', () => {
    state.draft = null;
    $('confirm').hidden = true;
  });
  dropZone($('manage-file'), async (file) => manage(await hashOf(file, () => {})));
  $('manage-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('manage-hash').value.trim();
    if (HASH.test(value)) manage(value);
    else show('manage-result', message(t('verify.badHash'), 'error'));
  });
  $('revoke-form').addEventListener('submit', (event) => change('revocation', event));
  $('supersede-form').addEventListener('submit', (event) => change('supersession', event));
  $('audit-refresh').addEventListener('click', loadAudit);
  document.body.dataset.ready = 'true';
}

main();
