// Keeps the form from being sent twice by a double click.
document.getElementById('NewItemForm')?.addEventListener('submit', function (event) {
  const button = event.target.querySelector('button[type=submit]');
  if (button) button.disabled = true;
});
document.getElementById('ReportContent')?.focus();
