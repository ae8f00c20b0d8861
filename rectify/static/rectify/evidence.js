// Evidence inputs: list the chosen files and warn before uploading what the server will refuse
// (too big, too many). The server checks everything again; this only saves a wasted upload
// on a slow connection in the field.
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var list = document.createElement("ul");
    list.className = "chosen-files";
    input.insertAdjacentElement("afterend", list);
    input.addEventListener("change", function () {
      var maxBytes = parseInt(input.dataset.maxBytes, 10);
      var maxVideoBytes = parseInt(input.dataset.maxVideoBytes || input.dataset.maxBytes, 10);
      var maxFiles = parseInt(input.dataset.maxFiles, 10);
      var problems = [];
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB)";
        var isVideo = /\.mp4$/i.test(file.name);
        if (file.size > (isVideo ? maxVideoBytes : maxBytes)) {
          item.className = "error";
          problems.push((isVideo ? input.dataset.msgTooBigVideo : input.dataset.msgTooBig).replace("%s", file.name));
        }
        list.appendChild(item);
      });
      if (input.files.length > maxFiles) {
        problems.push(input.dataset.msgTooMany);
      }
      input.setCustomValidity(problems.join(" "));
      if (problems.length) {
        input.reportValidity();
      }
    });
  });
})();
