// Keyboard shortcuts of a description's review page: a accepts the
// draft, e goes to the text and r to the note, Ctrl+Enter in the text
// saves it as edited and in the note rejects, n goes to the next pending
// description, p plays or pauses the clip, Esc leaves a field. Enter in
// the note sends nothing by itself: a form with several actions should
// not pick one for a stray key.
(function () {
  "use strict";
  var form = document.getElementById("review");
  if (!form) { return; }
  var text = document.getElementById("text");
  var note = document.getElementById("note");
  var video = document.getElementById("clip");
  var next = document.getElementById("next");

  function send(id) {
    var b = document.getElementById(id);
    if (b && !b.disabled) { form.requestSubmit(b); }
  }
  function focusEnd(el) {
    el.focus();
    var n = el.value.length;
    el.setSelectionRange(n, n);
  }

  note.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !(e.ctrlKey || e.metaKey)) { e.preventDefault(); }
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var inField = t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT");
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      if (t === text) { send("edit"); e.preventDefault(); }
      else if (t === note) { send("reject"); e.preventDefault(); }
      return;
    }
    if (e.key === "Escape" && inField) { t.blur(); return; }
    if (inField || e.ctrlKey || e.metaKey || e.altKey) { return; }
    switch (e.key) {
      case "a": send("accept"); break;
      case "e": focusEnd(text); break;
      case "r": focusEnd(note); break;
      case "n": if (next) { location.href = next.href; } break;
      case "p":
        if (!video) { return; }
        if (video.paused) { video.play(); } else { video.pause(); }
        break;
      default: return;
    }
    e.preventDefault();
  });
})();
