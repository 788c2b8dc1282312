// Refreshes the overview's counts from the JSON API every few seconds. The page works without it.
(function () {
  const overview = document.getElementById('bj-overview');
  if (!overview) return;
  const statsUrl = overview.getAttribute('data-stats-url');
  const PERIOD_MS = 5000;
  // In a table too big to count, a state past this many rows is the database's estimate, its
  // counts per job name too; the page marks those with "~" (view/formatting.ts decides the same).
  const exactStateRows = Number(overview.getAttribute('data-exact-state-rows'));
  const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
  const whole = new Intl.NumberFormat('en');

  function format(count, estimate) {
    if (count === null || count === undefined) return 'not kept';
    return estimate ? '~' + compact.format(count) : whole.format(count);
  }

  /** Fills each [data-count] in scope; `totals` are the per-state counts that decide what is an estimate. */
  function fill(scope, counts, totals, estimated) {
    scope.querySelectorAll('[data-count]').forEach(function (element) {
      const state = element.getAttribute('data-count');
      const estimate = estimated && totals[state] !== null && totals[state] > exactStateRows;
      element.textContent = format(counts ? counts[state] : 0, estimate);
    });
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(statsUrl, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) return;
      const estimated = response.headers.get('x-counts-estimated') === 'true';
      const stats = await response.json();
      fill(document.getElementById('bj-state-counts'), stats, stats, estimated);
      document.querySelectorAll('#bj-by-job-name tr[data-job-name]').forEach(function (row) {
        const name = row.getAttribute('data-job-name');
        const counts = Object.prototype.hasOwnProperty.call(stats.byJobName, name) ? stats.byJobName[name] : null;
        fill(row, counts, stats, estimated);
      });
      const stamp = document.getElementById('bj-refreshed');
      if (stamp) stamp.textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
    } catch {
      // The next tick tries again; the counts on the page stay as they were.
    }
  }

  setInterval(refresh, PERIOD_MS);
})();
