// "Copy" buttons (data-copy="<input id>"): shown only where the Clipboard API exists; the
// value stays selectable in its readonly input without them.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.dataset.copy);
    var status = document.getElementById("copy-status");
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () { if (status) status.textContent = "Copied to the clipboard."; },
        function () { input.select(); if (status) status.textContent = "Could not copy: select the key and copy it yourself."; }
      );
    });
  });
});
