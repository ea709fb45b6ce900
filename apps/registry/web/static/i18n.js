// Every string of the pages in German (the default) and English. Elements carry data-i18n="key"
// (text), data-i18n-placeholder, data-i18n-label (aria-label); scripts call t(key, values).
const STRINGS = {
  de: {
    skip: 'Zum Inhalt springen',
    'lang.switch': 'English',
    'lang.switchLabel': 'Switch to English',
    'nav.verify': 'Dokument prüfen',
    'nav.clerk': 'Für Sachbearbeitung',
    'brand.verify': 'Registerauskunft prüfen',
    'brand.clerk': 'Registerauskünfte beglaubigen',
    'verify.title': 'Registerauskunft prüfen',
    'verify.heading': 'Ist diese Registerauskunft echt?',
    'verify.lead':
      'Wählen Sie die Datei der Auskunft aus oder ziehen Sie sie in das Feld. Die Datei verlässt Ihr Gerät nicht: Ihr Browser berechnet einen Prüfwert (SHA-256), und nur dieser wird nachgeschlagen.',
    'drop.title': 'Datei hier ablegen',
    'drop.help': 'oder hier klicken bzw. mit der Eingabetaste eine Datei auswählen',
    'verify.byHash': 'Stattdessen den Prüfwert eingeben',
    'verify.hashLabel': 'Prüfwert (SHA-256, 64 Zeichen)',
    'verify.check': 'Prüfen',
    'verify.hashing': 'Prüfwert wird berechnet …',
    'verify.looking': 'Wird nachgeschlagen …',
    'verify.badHash': 'Das ist kein gültiger Prüfwert: er besteht aus 64 Zeichen 0–9 und a–f.',
    'verify.failed': 'Die Prüfung ist fehlgeschlagen: {message}',
    'verify.fileName': 'Geprüfte Datei: {name}',
    'verify.footer':
      'Die Beglaubigungen stehen in einer gemeinsamen Datenkette der Partnerstädte. Der Nachweis (JSON) lässt sich auch ohne diesen Server prüfen: govchain verify nachweis.json',
    'status.valid': 'Gültig',
    'status.expired': 'Abgelaufen',
    'status.revoked': 'Widerrufen',
    'status.superseded': 'Ersetzt',
    'status.unknown': 'Nicht gefunden',
    'status.pending': 'Wird eingetragen',
    'explain.valid': 'Dieses Dokument wurde von {city} ausgestellt und ist unverändert und gültig.',
    'explain.expired': 'Dieses Dokument wurde von {city} ausgestellt, seine Gültigkeit ist aber abgelaufen.',
    'explain.revoked': '{city} hat dieses Dokument widerrufen. Es gilt nicht mehr.',
    'explain.superseded': '{city} hat dieses Dokument durch eine neuere Fassung ersetzt. Es gilt nicht mehr.',
    'explain.unknown':
      'Für diese Datei ist keine Beglaubigung verzeichnet. Entweder wurde die Datei verändert (schon ein geändertes Zeichen ergibt einen anderen Prüfwert), oder sie wurde nicht über dieses Verfahren beglaubigt.',
    'explain.pending': '{city} hat dieses Dokument beglaubigt; die Eintragung wird gerade bestätigt.',
    'field.city': 'Ausgestellt von',
    'field.register': 'Register',
    'field.issuedAt': 'Ausgestellt am',
    'field.validUntil': 'Gültig bis',
    'field.unlimited': 'unbefristet',
    'field.clerk': 'Sachbearbeitung (Schlüssel)',
    'field.recordedAt': 'Eingetragen am',
    'field.closedAt': 'Geändert am',
    'field.reason': 'Grund',
    'field.successor': 'Neue Fassung',
    'field.hash': 'Prüfwert (SHA-256)',
    'field.pendingChange.revocation': 'Ein Widerruf wird gerade eingetragen.',
    'field.pendingChange.supersession': 'Eine Ersetzung wird gerade eingetragen.',
    'proof.download': 'Nachweis herunterladen (JSON)',
    'proof.open': 'Prüfseite öffnen',
    'qr.title': 'QR-Code für die Auskunft',
    'qr.alt': 'QR-Code, der auf die Prüfseite dieses Dokuments verweist',
    'qr.png': 'QR-Code als PNG',
    'qr.svg': 'QR-Code als SVG',
    'clerk.title': 'Registerauskünfte beglaubigen',
    'clerk.loginHeading': 'Anmelden',
    'clerk.loginLead':
      'Melden Sie sich mit Ihrem Dienstschlüssel an. Der Schlüssel bleibt in diesem Browserfenster; an den Server geht nur eine Signatur.',
    'clerk.keystore': 'Schlüsseldatei (Keystore, JSON)',
    'clerk.password': 'Passwort der Schlüsseldatei',
    'clerk.or': 'oder',
    'clerk.privateKey': 'Privater Schlüssel (hex)',
    'clerk.login': 'Anmelden',
    'clerk.loggingIn': 'Anmeldung läuft …',
    'clerk.unlocking': 'Schlüsseldatei wird entschlüsselt … {percent} %',
    'clerk.noKey': 'Bitte eine Schlüsseldatei mit Passwort oder einen privaten Schlüssel angeben.',
    'clerk.badKey': 'Der Schlüssel konnte nicht gelesen werden: {message}',
    'clerk.loggedIn': 'Angemeldet als {clerk} ({city}), bis {until}',
    'clerk.logout': 'Abmelden',
    'clerk.issueHeading': 'Auskunft beglaubigen',
    'clerk.issueFile': 'Datei der Auskunft',
    'clerk.registerType': 'Register',
    'clerk.subject': 'Betroffene Person oder Sache',
    'clerk.subjectHelp':
      'z. B. Name und Geburtsdatum. Daraus wird ein gesalzener Prüfwert der Stadt; der Klartext wird nicht gespeichert.',
    'clerk.validUntil': 'Gültig bis (leer: unbefristet)',
    'clerk.prepare': 'Weiter: prüfen, was signiert wird',
    'clerk.confirmHeading': 'Bitte prüfen und signieren',
    'clerk.sign': 'Signieren und beglaubigen',
    'clerk.cancel': 'Abbrechen',
    'clerk.issued': 'Beglaubigt. Drucken Sie den QR-Code auf die Auskunft.',
    'clerk.draftMismatch': 'Der Server schlug einen anderen Datensatz vor als gewählt. Nichts wurde signiert.',
    'clerk.manageHeading': 'Widerrufen oder ersetzen',
    'clerk.manageFile': 'Datei der beglaubigten Auskunft',
    'clerk.manageHash': 'oder ihr Prüfwert',
    'clerk.show': 'Anzeigen',
    'clerk.revokeReason': 'Grund des Widerrufs',
    'clerk.note': 'Vermerk (nur im Protokoll der Stadt)',
    'clerk.revoke': 'Widerrufen',
    'clerk.successor': 'Prüfwert der neuen, bereits beglaubigten Fassung',
    'clerk.successorFile': 'oder ihre Datei',
    'clerk.supersedeReason': 'Grund der Ersetzung',
    'clerk.supersede': 'Ersetzen',
    'clerk.changeSent': 'Übermittelt. Der neue Status erscheint, sobald er eingetragen ist.',
    'clerk.notChangeable': 'Dieses Dokument kann hier nicht geändert werden.',
    'clerk.auditHeading': 'Protokoll',
    'clerk.auditRefresh': 'Aktualisieren',
    'clerk.auditCsv': 'Als CSV herunterladen',
    'audit.time': 'Zeit',
    'audit.action': 'Vorgang',
    'audit.clerk': 'Sachbearbeitung',
    'audit.document': 'Dokument',
    'audit.state': 'Kette',
    'action.issued': 'beglaubigt',
    'action.revoked': 'widerrufen',
    'action.superseded': 'ersetzt',
    'action.login': 'Anmeldung',
    'action.logout': 'Abmeldung',
    'state.pending': 'läuft',
    'state.final': 'eingetragen',
    'state.rejected': 'abgelehnt',
    'error.generic': 'Fehler: {message}',
  },
  en: {
    skip: 'Skip to content',
    'lang.switch': 'Deutsch',
    'lang.switchLabel': 'Auf Deutsch umschalten',
    'nav.verify': 'Verify a document',
    'nav.clerk': 'For clerks',
    'brand.verify': 'Verify a register extract',
    'brand.clerk': 'Attest register extracts',
    'verify.title': 'Verify a register extract',
    'verify.heading': 'Is this register extract genuine?',
    'verify.lead':
      'Choose the file of the extract or drop it onto the field. The file does not leave your device: your browser computes a fingerprint (SHA-256), and only that is looked up.',
    'drop.title': 'Drop the file here',
    'drop.help': 'or click here, or press Enter, to choose a file',
    'verify.byHash': 'Enter the fingerprint instead',
    'verify.hashLabel': 'Fingerprint (SHA-256, 64 characters)',
    'verify.check': 'Verify',
    'verify.hashing': 'Computing the fingerprint …',
    'verify.looking': 'Looking it up …',
    'verify.badHash': 'That is not a valid fingerprint: it has 64 characters 0–9 and a–f.',
    'verify.failed': 'The check failed: {message}',
    'verify.fileName': 'File checked: {name}',
    'verify.footer':
      "The attestations are kept on a ledger the partner cities run together. The proof (JSON) can be checked without this server too: govchain verify proof.json",
    'status.valid': 'Valid',
    'status.expired': 'Expired',
    'status.revoked': 'Revoked',
    'status.superseded': 'Superseded',
    'status.unknown': 'Not found',
    'status.pending': 'Being recorded',
    'explain.valid': 'This document was issued by {city}; it is unchanged and valid.',
    'explain.expired': 'This document was issued by {city}, but its validity has ended.',
    'explain.revoked': '{city} has revoked this document. It is no longer valid.',
    'explain.superseded': '{city} has replaced this document with a newer version. It is no longer valid.',
    'explain.unknown':
      'No attestation is recorded for this file. Either the file was changed (a single changed character gives another fingerprint), or it was not attested this way.',
    'explain.pending': '{city} has attested this document; the record is being confirmed.',
    'field.city': 'Issued by',
    'field.register': 'Register',
    'field.issuedAt': 'Issued on',
    'field.validUntil': 'Valid until',
    'field.unlimited': 'no expiry',
    'field.clerk': 'Clerk (key)',
    'field.recordedAt': 'Recorded on',
    'field.closedAt': 'Changed on',
    'field.reason': 'Reason',
    'field.successor': 'New version',
    'field.hash': 'Fingerprint (SHA-256)',
    'field.pendingChange.revocation': 'A revocation is being recorded.',
    'field.pendingChange.supersession': 'A replacement is being recorded.',
    'proof.download': 'Download the proof (JSON)',
    'proof.open': 'Open the verification page',
    'qr.title': 'QR code for the extract',
    'qr.alt': "QR code linking to this document's verification page",
    'qr.png': 'QR code as PNG',
    'qr.svg': 'QR code as SVG',
    'clerk.title': 'Attest register extracts',
    'clerk.loginHeading': 'Sign in',
    'clerk.loginLead':
      'Sign in with your official key. The key stays in this browser window; only a signature goes to the server.',
    'clerk.keystore': 'Key file (keystore, JSON)',
    'clerk.password': 'Password of the key file',
    'clerk.or': 'or',
    'clerk.privateKey': 'Private key (hex)',
    'clerk.login': 'Sign in',
    'clerk.loggingIn': 'Signing in …',
    'clerk.unlocking': 'Decrypting the key file … {percent} %',
    'clerk.noKey': 'Please give a key file with its password, or a private key.',
    'clerk.badKey': 'The key could not be read: {message}',
    'clerk.loggedIn': 'Signed in as {clerk} ({city}), until {until}',
    'clerk.logout': 'Sign out',
    'clerk.issueHeading': 'Attest an extract',
    'clerk.issueFile': 'File of the extract',
    'clerk.registerType': 'Register',
    'clerk.subject': 'Person or object concerned',
    'clerk.subjectHelp':
      "e.g. name and date of birth. It becomes the city's salted fingerprint; the clear text is not stored.",
    'clerk.validUntil': 'Valid until (empty: no expiry)',
    'clerk.prepare': 'Next: review what will be signed',
    'clerk.confirmHeading': 'Please review and sign',
    'clerk.sign': 'Sign and attest',
    'clerk.cancel': 'Cancel',
    'clerk.issued': 'Attested. Print the QR code on the extract.',
    'clerk.draftMismatch': 'The server proposed another record than the one chosen. Nothing was signed.',
    'clerk.manageHeading': 'Revoke or replace',
    'clerk.manageFile': 'File of the attested extract',
    'clerk.manageHash': 'or its fingerprint',
    'clerk.show': 'Show',
    'clerk.revokeReason': 'Reason for revoking',
    'clerk.note': "Note (only in the city's log)",
    'clerk.revoke': 'Revoke',
    'clerk.successor': 'Fingerprint of the new, already attested version',
    'clerk.successorFile': 'or its file',
    'clerk.supersedeReason': 'Reason for replacing',
    'clerk.supersede': 'Replace',
    'clerk.changeSent': 'Sent. The new status shows once it is recorded.',
    'clerk.notChangeable': 'This document cannot be changed here.',
    'clerk.auditHeading': 'Log',
    'clerk.auditRefresh': 'Refresh',
    'clerk.auditCsv': 'Download as CSV',
    'audit.time': 'Time',
    'audit.action': 'Action',
    'audit.clerk': 'Clerk',
    'audit.document': 'Document',
    'audit.state': 'Ledger',
    'action.issued': 'attested',
    'action.revoked': 'revoked',
    'action.superseded': 'replaced',
    'action.login': 'sign-in',
    'action.logout': 'sign-out',
    'state.pending': 'pending',
    'state.final': 'recorded',
    'state.rejected': 'refused',
    'error.generic': 'Error: {message}',
  },
};

const listeners = [];

function initial() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'de' || asked === 'en') return asked;
  const stored = localStorage.getItem('govchain-lang');
  return stored === 'en' ? 'en' : 'de';
}

export let lang = initial();

export function t(key, values = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.de[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** A label object {de, en} from the service, in the current language. */
export function pick(label) {
  return label ? label[lang] ?? label.de : '';
}

export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  const titleKey = document.body.dataset.title;
  if (titleKey) document.title = t(titleKey);
}

export function onLanguage(callback) {
  listeners.push(callback);
}

export function setLanguage(next) {
  lang = next;
  localStorage.setItem('govchain-lang', next);
  const url = new URL(location.href);
  url.searchParams.set('lang', next);
  history.replaceState(null, '', url);
  apply();
  for (const callback of listeners) callback();
}

export function setupSwitch(button) {
  button.addEventListener('click', () => setLanguage(lang === 'de' ? 'en' : 'de'));
  onLanguage(() => button.setAttribute('lang', lang === 'de' ? 'en' : 'de'));
  button.setAttribute('lang', lang === 'de' ? 'en' : 'de');
}

export function formatTime(unixSeconds) {
  if (!unixSeconds) return t('field.unlimited');
  return new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
  }).format(new Date(unixSeconds * 1000));
}
