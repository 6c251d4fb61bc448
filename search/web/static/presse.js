/* presse: search-as-you-type, on top of a page that works without it.
   Typing in the search box fetches the same HTML page the form would load (debounced) and swaps the
   results in; the address bar follows, so every state still has a shareable URL. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var page = document.getElementById("page");
  var live = document.getElementById("live");
  if (!form || !input || !page || !window.fetch || !window.DOMParser || !window.history) return;
  if (!document.querySelector(".results-area")) return; /* only on search pages */

  var DELAY = 300;
  var timer = null;
  var controller = null;
  var last = input.value.trim();

  function urlFor(query) {
    var params = new URLSearchParams(new FormData(form));
    params.set("q", query);
    if (!query) params.delete("q");
    var qs = params.toString();
    return form.getAttribute("action") + (qs ? "?" + qs : "");
  }

  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("page");
    if (!fresh) return;
    page.innerHTML = fresh.innerHTML;
    document.title = doc.title;
    var feed = document.querySelector('link[rel="alternate"][type="application/atom+xml"]');
    var freshFeed = doc.querySelector('link[rel="alternate"][type="application/atom+xml"]');
    if (feed && freshFeed) feed.setAttribute("href", freshFeed.getAttribute("href"));
    var freshForm = doc.getElementById("search-form");
    if (freshForm) { /* keep the hidden filter fields in step with the page */
      Array.prototype.forEach.call(form.querySelectorAll('input[type="hidden"]'), function (el) { el.remove(); });
      Array.prototype.forEach.call(freshForm.querySelectorAll('input[type="hidden"]'), function (el) {
        input.parentNode.insertBefore(document.importNode(el, true), input.nextSibling);
      });
    }
    history.replaceState(null, "", url);
    var total = document.getElementById("total");
    if (live) live.textContent = total ? total.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function run() {
    var query = input.value.trim();
    if (query === last) return;
    last = query;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var url = urlFor(query);
    page.setAttribute("aria-busy", "true");
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin",
                 signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.text().then(function (text) { return [response, text]; }); })
      .then(function (pair) {
        if (pair[0].status === 200 || pair[0].status === 400) swap(pair[1], url);
      })
      .catch(function () { /* aborted or offline: the form still works */ })
      .then(function () { page.removeAttribute("aria-busy"); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, DELAY);
  });
  form.addEventListener("submit", function () { clearTimeout(timer); });
})();
