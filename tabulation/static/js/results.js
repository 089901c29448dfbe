/* Keep a live page (the results, the commission's dashboard) current
 * without reloading it.
 *
 * Every few seconds ask the tiny version endpoint whether a newer snapshot
 * exists (If-None-Match: an unchanged snapshot costs a bodiless 304); when
 * one does, fetch the server-rendered fragment and swap each live part in
 * place. The page works without this script: it is the same HTML.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-root]") || document.getElementById("results-live");
  if (!root || !root.dataset.pollUrl || !window.fetch || !window.DOMParser) {
    return;
  }
  var POLL_MS = 5000;
  var announce = document.getElementById("results-announce");
  // Versions are compared as text: the commission's is not a number. The
  // public read path sends no cookies; the staff pages need their session.
  var version = String(root.dataset.version || "");
  var credentials = root.dataset.credentials || "omit";
  var etag = null;
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    fresh.querySelectorAll("[data-live-part][id]").forEach(function (part) {
      var current = document.getElementById(part.id);
      if (current) {
        current.replaceWith(document.importNode(part, true));
      }
    });
  }

  function refresh(latest) {
    return fetch(root.dataset.liveUrl, { cache: "no-store", credentials: credentials })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("fragment " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        swap(html);
        version = String(latest.version);
        root.dataset.version = version;
        if (announce) {
          announce.textContent = (root.dataset.updatedText || "Updated: snapshot ") + version;
        }
      });
  }

  function poll() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(root.dataset.pollUrl, { cache: "no-store", credentials: credentials, headers: headers })
      .then(function (response) {
        if (response.status === 304 || !response.ok) {
          return null;
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (latest) {
        if (latest && String(latest.version) !== version) {
          return refresh(latest);
        }
        return null;
      })
      .catch(function () {
        /* A failed poll is retried on the next tick; the page stays as it is. */
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", poll);
})();
