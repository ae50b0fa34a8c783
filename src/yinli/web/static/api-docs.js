// Starts the vendored Swagger UI on /docs (a file, not an inline script, so the page's CSP stays
// script-src 'self'). "Authorize" signs in with the OAuth2 password form at /api/v1/auth/token.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
