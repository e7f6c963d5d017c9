/**
 * The dashboard's entry point: tabs, the API key, and the 2-second poll of `/ui/api/*` that
 * feeds every live tab (they keep ~2 minutes of samples for their sparklines).
 */
import { api, apiKey, setApiKey } from './api.js';
import { errorBox, h, put } from './dom.js';
import { renderAlerts } from './alerts-tab.js';
import { renderFreshness } from './freshness-tab.js';
import { setupLookup } from './lookup-tab.js';
import { setupRanking } from './ranking-tab.js';
import { renderRealtime } from './realtime-tab.js';
import { renderRegistry } from './registry-tab.js';
import { renderServing } from './serving-tab.js';
import { renderSkew } from './skew-view.js';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
let paused = false;
let registryVersion = null;
let watched = [];

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    history.replaceState(null, '', `#${tab.id.slice(4)}`);
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(t));
    t.addEventListener('keydown', (e) => {
      const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!d) return;
      const next = tabs[(i + d + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  });
  const initial = tabs.find((t) => `#${t.id.slice(4)}` === location.hash);
  if (initial) select(initial);
}

/** Runs `load`, renders its result with `render`, shows its error in `errEl`; true if it worked. */
async function section(errEl, load, render) {
  try {
    render(await load());
    errEl.replaceChildren();
    return true;
  } catch (e) {
    put(errEl, errorBox(e));
    return false;
  }
}

function fillSelects(r) {
  const svc = $('lookup-service');
  const keep = svc.value;
  put(
    svc,
    r.services.map((s) => h('option', { value: s.name }, s.name)),
  );
  if (keep) svc.value = keep;
  const target = $('rank-target');
  const keepT = target.value;
  put(
    target,
    h(
      'optgroup',
      { label: 'Models' },
      r.models.map((m) => h('option', { value: `model:${m.name}` }, `${m.name} (v${m.version})`)),
    ),
    h(
      'optgroup',
      { label: 'Experiments' },
      r.experiments.map((x) =>
        h(
          'option',
          { value: `experiment:${x.name}` },
          `${x.name} (${x.arms.map((a) => a.name).join(' / ')})`,
        ),
      ),
    ),
  );
  if (keepT) target.value = keepT;
}

/**
 * Placeholders from real ids: those this server recently wrote by push (`/ui/api/entity-examples`),
 * for the lookup, ranking and watch inputs. Without any, the generic placeholders stay.
 */
async function loadEntityExamples() {
  let ex;
  try {
    ex = (await api('/ui/api/entity-examples')).examples;
  } catch {
    return; // a placeholder is a hint; the other panels report errors
  }
  const users = ex.user_id ?? [];
  const products = ex.product_id ?? [];
  if (users.length > 0) {
    $('lookup-user').placeholder = `e.g. ${users[0]}`;
    $('rank-user').placeholder = `e.g. ${users[0]}`;
  }
  if (products.length > 0) {
    $('lookup-product').placeholder = `e.g. ${products[0]}`;
    const list = `e.g. ${products.slice(0, 3).join(', ')}`;
    $('rank-candidates').placeholder = list;
    $('watch-products').placeholder = list;
  }
}

async function loadRegistry() {
  await section(
    $('registry-error'),
    () => api('/ui/api/registry'),
    (r) => {
      registryVersion = r.version;
      renderRegistry($('registry-data'), r);
      fillSelects(r);
      void loadEntityExamples();
    },
  );
}

async function poll() {
  const now = Date.now();
  const q = watched.length ? `?products=${encodeURIComponent(watched.join(','))}` : '';
  const results = await Promise.all([
    section(
      $('freshness-error'),
      () => api('/ui/api/freshness'),
      (f) => {
        renderFreshness($('freshness-data'), f, now);
        if (f.registryVersion !== null && f.registryVersion !== registryVersion)
          void loadRegistry();
      },
    ),
    section(
      $('serving-error'),
      () => api('/ui/api/serving'),
      (s) => renderServing($('serving-data'), s),
    ),
    section(
      $('skew-error'),
      () => api('/ui/api/skew'),
      (s) => renderSkew($('skew-data'), s),
    ),
    section(
      $('alerts-error'),
      () => api('/ui/api/alerts'),
      (a) => renderAlerts($('alerts-data'), a),
    ),
    section(
      $('realtime-error'),
      () => api(`/ui/api/pipeline${q}`),
      (p) => renderRealtime($('realtime-data'), p),
    ),
  ]);
  const ok = results.every(Boolean);
  $('live-dot').className = `dot ${ok ? 'dot-ok' : 'dot-bad'}`;
  $('live-text').textContent =
    `${ok ? 'Live' : 'Errors'} · updated ${new Date().toISOString().slice(11, 19)} UTC`;
}

async function loop() {
  if (!paused) await poll();
  setTimeout(loop, POLL_MS);
}

function setupControls() {
  $('api-key').value = apiKey();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setApiKey($('api-key').value.trim());
    void loadRegistry();
    void poll();
  });
  $('pause').addEventListener('click', (e) => {
    paused = !paused;
    e.target.textContent = paused ? 'Resume' : 'Pause';
    e.target.setAttribute('aria-pressed', String(paused));
    if (paused) $('live-text').textContent = 'Paused';
  });
  $('watch-form').addEventListener('submit', (e) => {
    e.preventDefault();
    watched = $('watch-products')
      .value.split(/[\s,]+/)
      .filter(Boolean);
    void poll();
  });
  setupLookup($('lookup-form'), $('lookup-out'));
  setupRanking($('rank-form'), $('rank-out'));
  // Ids pushed since the page loaded: refresh the placeholders as a form is used.
  for (const id of ['lookup-form', 'rank-form', 'watch-form'])
    $(id).addEventListener('focusin', () => void loadEntityExamples());
}

setupTabs();
setupControls();
void loadRegistry();
void loop();
