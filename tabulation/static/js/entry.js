/* Record form: show the sum of the list votes as they are typed, and compare
   it with valid ballots. Progressive enhancement: the form works without it,
   and the checks on the server are the ones that count. */
(function () {
  "use strict";
  var form = document.querySelector(".entry-form form");
  if (!form) { return; }
  var voteInputs = form.querySelectorAll("input[data-vote]");
  var totalBox = form.querySelector("[data-total-for=votes]");
  var total = document.getElementById("votes-total");
  var note = document.getElementById("votes-total-note");
  var valid = form.querySelector("input[name=ballots_valid]");
  if (!totalBox || !total) { return; }
  totalBox.hidden = false;

  function count(input) {
    var text = (input && input.value || "").trim();
    return /^[0-9]+$/.test(text) ? parseInt(text, 10) : null;
  }

  function update() {
    var sum = 0;
    var blank = 0;
    for (var i = 0; i < voteInputs.length; i++) {
      var value = count(voteInputs[i]);
      if (value === null) { blank++; } else { sum += value; }
    }
    total.textContent = String(sum);
    var validCount = count(valid);
    var differs = blank === 0 && validCount !== null && validCount !== sum;
    totalBox.classList.toggle("entry-total-differs", differs);
    if (note) {
      note.textContent = differs ? (form.dataset.differsText || "≠ " + validCount) : "";
    }
  }

  form.addEventListener("input", update);
  update();

  // One click stores one entry: the key in the form makes a second send
  // harmless anyway, this only spares the second request.
  form.addEventListener("submit", function () {
    var button = document.getElementById("entry-submit");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
})();
