// The deposit pay page: the card goes to Stripe.js (never to us); we get a token, pay with it
// server-side, then let Stripe.js run 3-D Secure when the bank asks for it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(form.dataset.publishableKey);
  var needsAuthentication = form.dataset.requiresAction === "1";
  var card = null;
  if (!needsAuthentication) {
    card = stripe.elements().create("card");
    card.mount("#card-element");
  }
  var button = document.getElementById("pay-button");
  var problem = document.getElementById("pay-problem");

  function show(message) {
    problem.textContent = message || "The payment did not go through. Please try again.";
    problem.hidden = false;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    problem.hidden = true;
    if (needsAuthentication) {
      // A saved card the bank wants confirmed (3-D Secure): no new card details.
      stripe.confirmCardPayment(form.dataset.clientSecret).then(function () {
        window.location.assign(form.dataset.returnUrl);
      });
      return;
    }
    stripe.createToken(card).then(function (result) {
      if (result.error || !result.token) {
        show(result.error && result.error.message);
        return null;
      }
      var body = new URLSearchParams();
      body.set("card_token", result.token.id);
      body.set("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      return fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) {
            show(answer.message);
            return;
          }
          if (answer.status === "requires_action") {
            return stripe.confirmCardPayment(answer.client_secret).then(function () {
              window.location.assign(answer.return_url);
            });
          }
          window.location.assign(answer.return_url);
        });
      });
    }).catch(function () {
      show();
    });
  });
})();
