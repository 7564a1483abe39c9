// Stands in for the SDK's Ajv-based validator in bundled CLIs. The SDK uses it only to check
// elicitation answers; Portside servers never elicit, and loading Ajv is a large part of start-up.
export class AjvJsonSchemaValidator {
  getValidator() {
    return () => ({ valid: false, data: undefined, errorMessage: "This server does not use elicitation." });
  }
}
