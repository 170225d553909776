// One screen at a time: every <section class="screen"> in <main> but the shown one is hidden.
export function showScreen(id) {
  document.querySelectorAll('main > .screen').forEach((el) => { el.hidden = el.id !== id; });
  const screen = document.getElementById(id);
  const heading = screen && screen.querySelector('h1, h2');
  window.scrollTo(0, 0);
  if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
}
