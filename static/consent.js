// Choosing another team reloads the consent page with that team's projects
// (without JavaScript, the "Switch team" links do the same).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.querySelector('select[data-reload="true"]');
  if (!select) return;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    if (option && option.dataset.href) window.location.assign(option.dataset.href);
  });
});
