// Live updates for the overview: while a run goes, fetch the overview's
// body every two seconds and swap it in. Everything else works without
// JavaScript.
(function () {
  "use strict";
  var box = document.getElementById("overview");
  if (!box || !box.dataset.live) return;
  function tick() {
    fetch("/?part=body", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        // The run ended: one last refresh shows the final figures.
        if (html.indexOf('data-running="1"') < 0) return;
        setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
