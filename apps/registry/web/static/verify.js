// The verification page: a file dropped or chosen here is hashed in the browser and looked up by
// its hash; /verify/<hash> (where the QR codes lead) shows the result at once.
import { apply, onLanguage, setupSwitch, t } from './i18n.js';
import { HASH, api, dropZone, errorText, hashOf, message, resultCard } from './common.js';

const result = document.getElementById('result');
let shown = null; // {answer, fileName} of the result on screen, re-rendered on a language switch

function say(text, kind = 'info') {
  result.replaceChildren(message(text, kind));
}

function render() {
  if (!shown) return;
  const card = resultCard(shown.answer);
  if (shown.fileName) card.querySelector('.explain').after(message(t('verify.fileName', { name: shown.fileName })));
  result.replaceChildren(card);
}

async function check(hash, fileName = null) {
  const hex = hash.replace(/^0x/i, '').toLowerCase();
  say(t('verify.looking'));
  try {
    shown = { answer: await api(`/v1/verify/${hex}`), fileName };
    render();
    if (!fileName && location.pathname !== `/verify/${hex}`) {
      history.replaceState(null, '', `/verify/${hex}${location.search}`);
    }
  } catch (error) {
    shown = null;
    say(t('verify.failed', { message: errorText(error) }), 'error');
  }
}

async function main() {
  apply();
  setupSwitch(document.getElementById('lang-switch'));
  onLanguage(render);
  try {
    const info = await api('/v1/info');
    document.getElementById('city-name').textContent = info.displayName;
  } catch {
    /* the page still verifies */
  }
  dropZone(document.getElementById('file'), async (file) => {
    check(await hashOf(file, say), file.name);
  });
  document.getElementById('hash-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = document.getElementById('hash-input').value.trim();
    if (!HASH.test(value)) {
      say(t('verify.badHash'), 'error');
      return;
    }
    check(value);
  });
  const match = location.pathname.match(/^\/verify\/([^/]+)$/);
  if (match) {
    document.querySelector('h1').after(result); // the QR code's visitor came for the result
    const value = decodeURIComponent(match[1]);
    if (HASH.test(value)) check(value);
    else say(t('verify.badHash'), 'error');
  }
  document.body.dataset.ready = 'true';
}

main();
