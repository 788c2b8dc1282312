// Keeps the form from being sent twice by a double click.
document.getElementById('NewItemForm')?.addEventListener('submit', function (event) {
  const button = event.target.querySelector('button[type=submit]');
  if (button) button.disabled = true;
});
// Back may restore this page from the back/forward cache as it was left: with the button disabled.
window.addEventListener('pageshow', function (event) {
  const button = document.querySelector('#NewItemForm button[type=submit]');
  if (event.persisted && button) button.disabled = false;
});
document.getElementById('ReportContent')?.focus();
