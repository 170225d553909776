import { ApiError, api, errorKey } from '../api.js';
import { initLanguageSwitch, setText } from '../i18n.js';

initLanguageSwitch();
const form = document.getElementById('login');
const problem = document.getElementById('login-error');

function nextPage() {
  const next = new URLSearchParams(window.location.search).get('next') || '';
  return next.startsWith('/staff/') ? next : '/staff/cases';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('POST', '/v1/auth/login', {
      json: { username: form.username.value.trim(), password: form.password.value },
    });
    window.location.href = nextPage();
  } catch (error) {
    setText(problem, errorKey(error instanceof ApiError && error.status === 422 ? new ApiError(401, 'login_failed') : error));
    problem.hidden = false;
    button.disabled = false;
  }
});
