// Keyboard shortcuts of the rating page: 1-4 rate the highlighted
// reasoning and move to the next one without a rating, j/k move down and
// up, p plays or pauses the clip, Enter sends the form.
(function () {
  "use strict";
  var form = document.getElementById("rating");
  if (!form) { return; }
  var video = document.getElementById("clip");
  var cands = Array.prototype.slice.call(form.querySelectorAll("fieldset.cand"));
  var cur = 0;

  function rated(fs) { return fs.querySelector("input:checked") !== null; }
  // show highlights reasoning i; scroll brings it into view, for the
  // keys only: scrolling under a mouse click would move its target away.
  function show(i, scroll) {
    if (i < 0 || i >= cands.length) { return; }
    cands[cur].classList.remove("current");
    cur = i;
    cands[cur].classList.add("current");
    if (scroll) { cands[cur].scrollIntoView({ block: "nearest" }); }
  }
  function nextUnrated() {
    for (var k = 1; k <= cands.length; k++) {
      var j = (cur + k) % cands.length;
      if (!rated(cands[j])) { return j; }
    }
    return -1;
  }

  cands.forEach(function (fs, i) {
    fs.addEventListener("click", function () { show(i); });
    fs.addEventListener("focusin", function () { show(i); });
  });
  var first = cands.findIndex(function (fs) { return !rated(fs); });
  show(first >= 0 ? first : 0);

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type === "text"))) { return; }
    var k = e.key;
    if (k >= "1" && k <= "4") {
      var input = cands[cur].querySelector('input[value="' + k + '"]');
      if (input) { input.checked = true; }
      var n = nextUnrated();
      if (n >= 0) { show(n, true); }
      e.preventDefault();
    } else if (k === "j") {
      show(cur + 1, true); e.preventDefault();
    } else if (k === "k") {
      show(cur - 1, true); e.preventDefault();
    } else if (k === "p" && video) {
      if (video.paused) { video.play(); } else { video.pause(); }
      e.preventDefault();
    } else if (k === "Enter" && !(t && t.tagName === "BUTTON")) {
      var missing = nextUnrated();
      if (missing >= 0 && !rated(cands[cur])) { missing = cur; }
      if (missing >= 0) { show(missing, true); }
      form.requestSubmit();
      e.preventDefault();
    }
  });
})();
