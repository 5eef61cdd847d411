// What was typed into a form survives a form the server could not take (its session ended, or
// the tab was older than the user's sign-in): kept in this tab's sessionStorage as the form is
// sent, and put back when the page comes back marked data-draft="restore" (web/drafts.py).
// Nothing typed goes to the server's storage or into a URL; it is dropped on any other page.
(function () {
  "use strict";
  var KEY = "denials-draft";
  var MAX_AGE_MS = 12 * 3600 * 1000;
  var SKIPPED = { hidden: 1, file: 1, password: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function fieldsOf(form) {
    var fields = {};
    var typed = false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIPPED[el.type] || el.disabled) return;
      var values = fields[el.name] || (fields[el.name] = []);
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values.push(el.value);
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { values.push(o.value); });
      } else {
        values.push(el.value);
        if (el.value.trim()) typed = true;
      }
    });
    return typed ? fields : null;
  }

  function keep(event) {
    var form = event.target;
    if ((form.method || "").toLowerCase() !== "post") return;
    var action = form.getAttribute("action") || "";
    if (action === "/login" || action === "/logout" || form.querySelector("input[type=password]")) return;
    var fields = fieldsOf(form);
    try {
      if (fields === null) {
        sessionStorage.removeItem(KEY);
        return;
      }
      sessionStorage.setItem(KEY, JSON.stringify({
        user: document.body.dataset.user || "",
        action: action,
        fields: fields,
        at: Date.now()
      }));
    } catch (e) { /* storage full or disabled: the form is sent as usual */ }
  }

  function put(form, fields) {
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var values = fields[name];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== name || SKIPPED[el.type]) return;
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = values.indexOf(el.value) >= 0;
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
        } else if (values.length) {
          el.value = values[0];
          if (!first && el.value.trim() && el.tagName !== "SELECT") first = el;
        }
      });
    });
    return first;
  }

  function said(notice, text) {
    notice.appendChild(document.createTextNode(" " + text));
  }

  function restore(notice, draft) {
    var form = Array.prototype.find.call(document.forms, function (f) {
      return f.getAttribute("action") === draft.action;
    });
    if (form) {
      var first = put(form, draft.fields);
      said(notice, "What you typed is back in the form below: check it and submit again.");
      // Said beside the form too: the page scrolls there, away from the notice.
      var hint = document.createElement("p");
      hint.className = "kept-hint";
      hint.textContent = "Put back as you typed it before signing in again: check it and submit.";
      form.insertAdjacentElement("beforebegin", hint);
      if (first) {
        first.focus();
        first.scrollIntoView({ block: "center" });
      }
      return;
    }
    // The form is gone (the task was done meanwhile, say): show the text to copy.
    said(notice, "The form it was typed in is no longer on this page; this is what you typed:");
    var text = document.createElement("pre");
    text.className = "kept-text";
    text.textContent = Object.keys(draft.fields).map(function (name) {
      return draft.fields[name].join("\n");
    }).filter(function (value) { return value.trim(); }).join("\n\n");
    notice.insertAdjacentElement("afterend", text);
  }

  function stored() {
    try {
      var draft = JSON.parse(sessionStorage.getItem(KEY) || "null");
      return draft && Date.now() - draft.at < MAX_AGE_MS ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function start() {
    var notice = document.getElementById("draft-notice");
    var mode = notice ? notice.dataset.draft : "";
    var draft = stored();
    if (mode === "keep") {
      if (draft) said(notice, "What you typed is kept in this tab and goes back in its form once you are signed in.");
      return;
    }
    try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    // Only to the user who typed it: another user signing in at this desk does not see it.
    if (mode === "restore" && draft && draft.user === (document.body.dataset.user || "")) {
      restore(notice, draft);
    }
  }

  document.addEventListener("submit", keep, true);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
