// jemput operator station: the capture step page. While a capture request runs, every attempt
// the devices report (Server-Sent Events from /events) is added to the page's attempt list, the
// signature is drawn as the resident writes it (`pen` events: samples in the pad's units), and
// the capture button waits. The page works without this script (the list and the trace then show
// after the capture); no data is kept in the browser. On a slap page (`data-steps`: its fingers'
// steps) each finger's attempts go to that finger's own list (`#live-finger-07`).
(function () {
  'use strict';
  var root = document.querySelector('.capture');
  if (!root) return;
  var visit = root.getAttribute('data-visit');
  var step = root.getAttribute('data-step');
  var list = document.getElementById('live');
  var lists = root.querySelectorAll('.live-list');
  var source = null;
  // The list an attempt goes to: the step's own, or on a slap page its finger's.
  function listFor(a) {
    if (a.visit !== visit) return null;
    if (a.step === step) return list;
    return lists.length ? document.getElementById('live-' + a.step) : null;
  }
  if (window.EventSource && (list || lists.length)) {
    source = new EventSource('/events');
    source.addEventListener('attempt', function (e) {
      var a;
      try { a = JSON.parse(e.data); } catch (_) { return; }
      var into = listFor(a);
      if (!into) return;
      var none = document.getElementById('no-attempts');
      if (none) none.hidden = true;
      var li = document.createElement('li');
      if (a.image) {
        var img = document.createElement('img');
        img.className = 'attempt-img';
        img.src = a.image;
        img.alt = '';
        li.appendChild(img);
      }
      var text = document.createElement('span');
      text.textContent = a.text;
      li.appendChild(text);
      into.appendChild(li);
    });
    var box = document.getElementById('live-trace-box');
    var svg = document.getElementById('live-trace');
    var SVG_NS = 'http://www.w3.org/2000/svg';
    var traceAttempt = null;
    var stroke = null;
    source.addEventListener('pen', function (e) {
      var p;
      try { p = JSON.parse(e.data); } catch (_) { return; }
      if (!svg || p.visit !== visit || p.step !== step) return;
      if (p.attempt !== traceAttempt) {
        // A new attempt is a new trace.
        while (svg.firstChild) svg.removeChild(svg.firstChild);
        traceAttempt = p.attempt;
        stroke = null;
        svg.setAttribute('viewBox', '0 0 ' + p.w + ' ' + p.h);
        box.hidden = false;
      }
      if (!p.down) {
        stroke = null;
        return;
      }
      if (!stroke) {
        stroke = document.createElementNS(SVG_NS, 'polyline');
        svg.appendChild(stroke);
      }
      var point = svg.createSVGPoint();
      point.x = p.x;
      point.y = p.y;
      stroke.points.appendItem(point);
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }
  var forms = document.querySelectorAll('form.capture-form');
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener('submit', function () {
      var button = form.querySelector('button[type=submit]');
      var note = form.querySelector('.busy-note');
      if (note) note.hidden = false;
      // A second press would only wait behind the first: the button waits until the page comes.
      window.setTimeout(function () {
        if (button) button.disabled = true;
      }, 0);
      if (list) {
        while (list.firstChild) list.removeChild(list.firstChild);
      }
      Array.prototype.forEach.call(lists, function (l) {
        while (l.firstChild) l.removeChild(l.firstChild);
      });
      // The signature kept before gives way to the one being written.
      var kept = root.querySelector('svg.trace:not(.live-trace)');
      if (kept && document.getElementById('live-trace')) kept.style.display = 'none';
    });
  });
})();
