// Starts Swagger UI on the API reference page (/api/v1/docs). An external file, because the
// Content-Security-Policy of every page allows no inline script. Everything is served by the app itself.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,
    tryItOutEnabled: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0
  });
})();
