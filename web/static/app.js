// tandem console entry point: header (token, connection), hash router.
//
// Routes: #/ sessions and fleet, #/s/ID one session, #/episodes the episode
// browser, #/charts charts. Changing the token remounts the current view so
// its WebSockets reconnect with the new rights.

import { adoptURLToken, token, storedToken, authState, setToken, onToken, onNet, operatorName, setOperatorName, toast } from './api.js';
import { mountSessions } from './fleet.js';
import { mountSession } from './session.js';
import { mountEpisodes } from './episodes.js';
import { mountCharts } from './charts.js';

adoptURLToken();

const view = document.getElementById('view');
let cleanup = () => {};

function route() {
  cleanup();
  cleanup = () => {};
  const h = location.hash.replace(/^#/, '') || '/';
  const path = h.split('?')[0];
  let nav = 'sessions';
  let m;
  if ((m = path.match(/^\/s\/(.+)$/))) {
    cleanup = mountSession(view, decodeURIComponent(m[1]));
    nav = '';
  } else if (path === '/episodes') {
    cleanup = mountEpisodes(view); nav = 'episodes';
  } else if (path === '/charts') {
    cleanup = mountCharts(view); nav = 'charts';
  } else {
    cleanup = mountSessions(view);
  }
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('on', a.dataset.nav === nav));
}

// Token and name settings.
const authForm = document.getElementById('auth');
const authBtn = document.getElementById('auth-toggle');
const tokenIn = document.getElementById('auth-token');
const nameIn = document.getElementById('auth-name');
const readonly = document.getElementById('readonly');
function showAuth() {
  const state = authState();
  authBtn.textContent = {
    operator: `operator${operatorName() ? ': ' + operatorName() : ''}`,
    viewer: 'viewer (read-only) — set token',
    rejected: 'token rejected — read-only',
  }[state];
  authBtn.className = 'badge ' + { operator: 'ok', viewer: 'warn', rejected: 'bad' }[state];
  readonly.hidden = state === 'operator';
  readonly.classList.toggle('rejected', state === 'rejected');
  readonly.textContent = state === 'rejected'
    ? 'The server rejected the operator token (401). You are watching read-only; correct the token in the settings (top right) to operate.'
    : 'Read-only viewer: no operator token. You can watch sessions and browse episodes; set a token to create sessions or take over.';
  document.body.classList.toggle('viewer', !token());
}
authBtn.addEventListener('click', () => {
  authForm.hidden = !authForm.hidden;
  if (!authForm.hidden) { tokenIn.value = storedToken(); nameIn.value = operatorName(); tokenIn.focus(); }
});
authForm.addEventListener('submit', (e) => {
  e.preventDefault();
  setOperatorName(nameIn.value);
  setToken(tokenIn.value);
  authForm.hidden = true;
  toast(token() ? 'token saved: operator mode' : 'token cleared: read-only viewer');
});
document.getElementById('auth-clear').addEventListener('click', () => {
  tokenIn.value = '';
  setToken('');
  authForm.hidden = true;
});
onToken(() => {
  showAuth();
  if (authState() === 'rejected') toast('the server rejected the token (401): watching read-only; check it in the settings', 'error', 6000);
  route();
});
showAuth();

// REST reachability badge.
const net = document.getElementById('net');
onNet((s) => {
  const text = { online: 'online', offline: 'server unreachable', error: 'server error',
    unauthorized: authState() === 'rejected' ? 'token rejected' : 'token required' }[s] || s;
  net.textContent = text;
  net.className = 'badge ' + (s === 'online' ? 'ok' : 'bad');
  if (s === 'unauthorized' && authState() !== 'rejected') toast('this server needs an operator token to watch (401): set it in the settings', 'error', 6000);
});
net.textContent = 'connecting…';

window.addEventListener('hashchange', route);
route();
