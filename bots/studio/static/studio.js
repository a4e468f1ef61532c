// The studio's few interactions, written with fetch instead of a framework: list items,
// checking the persona as you type, and the preview chat. Every POST carries the CSRF token.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function post(url, body) {
    return fetch(url, {method: "POST", body: body, headers: {"X-CSRF-Token": csrf},
                       credentials: "same-origin"});
  }

  // Lists: "+ Add" appends an empty item, "✕" removes one.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.classList.contains("add")) {
      var list = document.getElementById("f-" + target.dataset.list);
      var item = document.createElement("li");
      item.innerHTML = '<input><button type="button" class="remove" title="Remove">✕</button>';
      item.firstChild.name = target.dataset.list;
      item.firstChild.setAttribute("aria-label", target.dataset.list + " item");
      list.appendChild(item);
      item.firstChild.focus();
    } else if (target.classList.contains("remove")) {
      target.parentNode.remove();
      changed();
    }
  });

  var form = document.getElementById("persona-form");
  var timer = null;
  function changed() {
    if (!form) return;
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }
  function check() {
    post(form.dataset.check, new FormData(form)).then(function (response) {
      return response.json();
    }).then(function (result) {
      form.querySelectorAll("[data-error-for]").forEach(function (slot) {
        var messages = result.errors[slot.dataset.errorFor] || [];
        slot.textContent = messages.join("; ");
        slot.parentNode.classList.toggle("has-error", messages.length > 0);
      });
      var general = document.getElementById("general-errors");
      general.innerHTML = "";
      result.general.forEach(function (text) {
        var p = document.createElement("p");
        p.textContent = text;
        general.appendChild(p);
      });
      general.hidden = result.general.length === 0;
    });
  }
  if (form) form.addEventListener("input", changed);

  // The preview's first bubble is the greeting as typed, so a new greeting is seen at once.
  var greetingField = document.getElementById("f-greeting");
  if (greetingField) {
    greetingField.addEventListener("input", function () {
      var log = document.getElementById("preview-log");
      var bubble = log.querySelector(".greeting");
      if (!bubble) {
        bubble = document.createElement("div");
        bubble.className = "bubble bot greeting";
        log.insertBefore(bubble, log.firstChild);
      }
      bubble.textContent = greetingField.value;
      bubble.hidden = !greetingField.value.trim();
    });
  }

  var preview = document.getElementById("preview-form");
  if (preview) {
    var log = document.getElementById("preview-log");
    var question = document.getElementById("preview-question");
    preview.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!question.value.trim()) return;
      var body = new FormData(form);
      new FormData(preview).forEach(function (value, key) { body.append(key, value); });
      var pending = document.createElement("div");
      pending.className = "bubble pending";
      pending.textContent = "…";
      log.appendChild(pending);
      post(document.getElementById("preview").dataset.url, body).then(function (response) {
        return response.text();
      }).then(function (html) {
        pending.remove();
        var turn = document.createElement("div");
        turn.className = "turn";
        turn.innerHTML = html;
        log.appendChild(turn);
        log.scrollTop = log.scrollHeight;
      });
      question.value = "";
    });
    var counter = 1;
    function fresh(which) {
      counter += 1;
      document.getElementById(which).value = which.replace("preview-", "") === "user"
        ? "studio-user-" + counter : "preview-" + counter;
      document.getElementById("preview-thread").value = "preview-" + counter;
      log.querySelectorAll(".turn, .pending").forEach(function (node) { node.remove(); });
    }
    document.getElementById("preview-reset").addEventListener("click", function () {
      fresh("preview-thread");
    });
    document.getElementById("preview-new-user").addEventListener("click", function () {
      fresh("preview-user");
    });
  }
})();
