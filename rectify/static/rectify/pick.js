// Pickers for the ~400 units: a long <select data-search="…"> gets a search box that keeps only
// the matching options (one match is chosen), and a text field of names separated by 、
// (<input data-names list="…">) suggests from the unit table the name being typed. Without
// script the select and the field work as they are; the server checks every value again.
(function () {
  "use strict";
  function matches(text, typed) {
    return !typed || text.toLowerCase().indexOf(typed.toLowerCase()) >= 0;
  }

  document.querySelectorAll("select[data-search]").forEach(function (select) {
    var all = Array.prototype.slice.call(select.options);
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-search";
    box.placeholder = select.dataset.search;
    box.setAttribute("aria-label", select.dataset.search);
    box.setAttribute("aria-controls", select.id);
    select.insertAdjacentElement("beforebegin", box);
    box.addEventListener("input", function () {
      var typed = box.value.trim();
      var chosen = select.value;
      var found = [];
      select.textContent = "";
      all.forEach(function (option) {
        var hit = option.value && matches(option.text, typed);
        if (hit) {
          found.push(option);
        }
        if (hit || !option.value || option.value === chosen || !typed) {
          select.appendChild(option);
        }
      });
      if (typed && found.length === 1) {
        select.value = found[0].value;
      } else {
        select.value = chosen;
      }
    });
  });

  document.querySelectorAll("input[data-names][list]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) {
      return;
    }
    var names = Array.prototype.map.call(list.options, function (option) { return option.value; });
    input.addEventListener("input", function () {
      var value = input.value;
      var cut = Math.max(value.lastIndexOf("、"), value.lastIndexOf(","), value.lastIndexOf("，"),
                         value.lastIndexOf(";"), value.lastIndexOf("；"));
      var head = value.slice(0, cut + 1);
      var typed = value.slice(cut + 1).trim();
      list.textContent = "";
      names.filter(function (name) { return matches(name, typed); }).slice(0, 50).forEach(function (name) {
        var option = document.createElement("option");
        option.value = head + name;
        list.appendChild(option);
      });
    });
  });
})();
