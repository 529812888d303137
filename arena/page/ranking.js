// The host's view of the study: ratings with 95% intervals, agreement, sanity pairs.
"use strict";
(async function () {
  const response = await fetch("/api/ranking", { cache: "no-store" });
  const result = await response.json();
  document.getElementById("summary").textContent =
    result.votes + " votes by " + result.raters + " raters (last vote " + result.date + ")";
  const body = document.querySelector("#ranking tbody");
  result.systems.forEach((row) => {
    const tr = document.createElement("tr");
    [row.system, row.rating.toFixed(0), row.ci_low.toFixed(0) + "–" + row.ci_high.toFixed(0),
     String(row.votes), row.wins + "/" + row.ties + "/" + row.losses].forEach((text) => {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
  const agreement = result.agreement === null ? "n/a" : Math.round(result.agreement * 100) + "%";
  const sanity = result.sanity.pairs ? Math.round(result.sanity.passed * 100) + "% of " + result.sanity.pairs : "none yet";
  document.getElementById("details").textContent =
    "Agreement between raters: " + agreement + ". Sanity pairs passed: " + sanity + ".";
})();
