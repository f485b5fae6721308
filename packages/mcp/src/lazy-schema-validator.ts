/**
 * Checks structured tool results against output schemas as the MCP SDK's default does (Ajv), but
 * builds Ajv, and compiles a schema, only when a result is first checked against it. The SDK's client
 * builds its Ajv instance (formats included) as it is constructed, for `Client.listTools` and
 * `Client.callTool`; the pool sends `tools/list` and `tools/call` itself and passes results on whole
 * (see the README), so that instance was built for nothing on every connection: a few milliseconds of
 * every worker's start, before its first model call.
 *
 * @module
 */
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type {
  JsonSchemaType,
  JsonSchemaValidator,
  jsonSchemaValidator,
} from "@modelcontextprotocol/sdk/validation/types.js";

/**
 * One per client (its compiled schemas go with it). Through `Client.listTools` and `Client.callTool`,
 * a schema Ajv cannot compile fails that tool's calls, with Ajv's message, instead of the listing of
 * every tool.
 *
 * @example
 * ```ts
 * const client = new Client(info, { capabilities: {}, jsonSchemaValidator: lazySchemaValidator() });
 * ```
 */
export function lazySchemaValidator(): jsonSchemaValidator {
  let ajv: AjvJsonSchemaValidator | undefined;
  return {
    getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
      let validate: JsonSchemaValidator<T> | undefined;
      return (input) => {
        validate ??= (ajv ??= new AjvJsonSchemaValidator()).getValidator<T>(schema);
        return validate(input);
      };
    },
  };
}
