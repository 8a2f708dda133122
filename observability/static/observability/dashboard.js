// The dashboard's pages: each chart is drawn from its endpoint; the live page follows the websocket.
// Plain browser JavaScript, no build step; Chart.js is vendored beside this file (vendor/).
"use strict";

(function () {
  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function cell(row, value) {
    const td = document.createElement("td");
    td.textContent = text(value);
    row.appendChild(td);
    return td;
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            const error = body && body.error ? body.error.message : response.statusText;
            throw new Error(error);
          }
          return body;
        });
      }
    );
  }

  // Chart pages ---------------------------------------------------------------------------------
  const drawn = new Map();

  function fillTable(table, rows) {
    const head = table.querySelector("thead");
    const body = table.querySelector("tbody");
    head.replaceChildren();
    body.replaceChildren();
    if (!rows.length) {
      table.hidden = true;
      return;
    }
    const columns = Object.keys(rows[0]);
    const headRow = document.createElement("tr");
    columns.forEach(function (name) {
      const th = document.createElement("th");
      th.textContent = name.replace(/_/g, " ");
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    rows.forEach(function (row) {
      const tr = document.createElement("tr");
      columns.forEach(function (name) {
        cell(tr, row[name]);
      });
      body.appendChild(tr);
    });
    table.hidden = false;
  }

  function drawChart(canvas, days) {
    const section = canvas.closest("section");
    const error = section.querySelector(".dashboard-error");
    const empty = section.querySelector(".dashboard-empty");
    canvas.dataset.state = "loading";
    return fetchJson(canvas.dataset.endpoint + "?days=" + encodeURIComponent(days))
      .then(function (data) {
        const stacked = canvas.dataset.stacked === "true";
        const previous = drawn.get(canvas);
        if (previous) {
          previous.destroy();
        }
        const chart = new Chart(canvas, {
          type: canvas.dataset.kind,
          data: { labels: data.labels, datasets: data.datasets },
          options: {
            animation: false,
            maintainAspectRatio: false,
            scales: {
              x: { stacked: stacked },
              y: { stacked: stacked, beginAtZero: true, title: { display: !!data.unit, text: data.unit } },
            },
          },
        });
        drawn.set(canvas, chart);
        const points = data.datasets.reduce(function (sum, set) {
          return sum + set.data.length;
        }, 0);
        canvas.dataset.points = String(points);
        canvas.dataset.state = "drawn";
        empty.hidden = points > 0;
        error.hidden = true;
        fillTable(section.querySelector(".dashboard-rows"), data.rows || []);
      })
      .catch(function (failure) {
        canvas.dataset.state = "failed";
        error.textContent = "Could not load this chart: " + failure.message;
        error.hidden = false;
      });
  }

  function chartPage() {
    const canvases = Array.from(document.querySelectorAll("canvas[data-endpoint]"));
    if (!canvases.length) {
      return;
    }
    const select = document.getElementById("window-days");
    const initial = new URLSearchParams(window.location.search).get("days");
    if (initial && select) {
      select.value = initial;
    }
    function drawAll() {
      const days = select ? select.value : "7";
      canvases.forEach(function (canvas) {
        drawChart(canvas, days);
      });
    }
    if (select) {
      select.addEventListener("change", drawAll);
    }
    drawAll();
  }

  // Live page -----------------------------------------------------------------------------------
  function scores(list) {
    return (list || [])
      .map(function (s) {
        return s.slug + " " + s.score.toFixed(2);
      })
      .join(", ");
  }

  function fillOutcome(tr, decision) {
    tr.querySelector(".beats").textContent = decision.finished ? text(decision.beat_count) : "…";
    tr.querySelector(".latency").textContent = decision.finished ? text(decision.latency_ms) : "…";
    tr.querySelector(".cost").textContent = decision.finished ? text(decision.cost_usd) : "…";
    tr.dataset.finished = decision.finished ? "true" : "false";
  }

  function decisionRow(decision) {
    const tr = document.createElement("tr");
    tr.id = "decision-" + decision.id;
    tr.dataset.decisionId = String(decision.id);
    cell(tr, decision.id);
    cell(tr, new Date(decision.created_at).toLocaleTimeString());
    cell(tr, (decision.guild_id ? decision.guild_id + " / " : "") + decision.channel_id);
    cell(tr, decision.trigger_kind + (decision.trigger_id ? " " + decision.trigger_id.slice(0, 8) : ""));
    cell(tr, decision.chosen_slug).className = "disposition";
    cell(tr, scores(decision.top_scores));
    cell(tr, "").className = "beats";
    cell(tr, "").className = "latency";
    cell(tr, "").className = "cost";
    fillOutcome(tr, decision);
    return tr;
  }

  function livePage() {
    const table = document.getElementById("live-decisions");
    if (!table) {
      return;
    }
    const body = table.querySelector("tbody");
    const status = document.getElementById("live-status");

    function setStatus(state, label) {
      status.dataset.state = state;
      status.textContent = label;
    }

    function receive(message) {
      const decision = message.decision;
      const existing = document.getElementById("decision-" + decision.id);
      if (message.kind === "recorded" && !existing) {
        const tr = decisionRow(decision);
        tr.classList.add("fresh");
        body.prepend(tr);
        while (body.rows.length > 200) {
          body.deleteRow(body.rows.length - 1);
        }
      } else if (message.kind === "finished" && existing) {
        fillOutcome(existing, decision);
      }
    }

    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + window.location.host + table.dataset.socket);
      socket.addEventListener("open", function () {
        setStatus("open", "live");
      });
      socket.addEventListener("message", function (event) {
        receive(JSON.parse(event.data));
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4403) {
          setStatus("closed", "refused: sign in as staff");
          return;
        }
        setStatus("closed", "disconnected, retrying…");
        window.setTimeout(connect, 3000);
      });
    }

    fetchJson(table.dataset.endpoint)
      .then(function (decisions) {
        decisions.forEach(function (decision) {
          body.appendChild(decisionRow(decision));
        });
      })
      .catch(function (failure) {
        setStatus("closed", "could not load decisions: " + failure.message);
      })
      .finally(connect);
  }

  document.addEventListener("DOMContentLoaded", function () {
    chartPage();
    livePage();
  });
})();
