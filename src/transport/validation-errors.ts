import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A validation rule that throws instead of reporting makes validate() throw:
 * graphql-js 16's SingleFieldSubscriptionsRule does so for
 * `subscription($v: Boolean!) { myEvents @include(if: $v) { ... } }` (it
 * collects the root fields without variable values), and a limit rule set
 * to throw would too. yoga then answered with an error that had no code,
 * and the WebSocket adapter closed the socket with 4500. A GraphQLError
 * thrown while validating is a validation error like any other
 * (GRAPHQL_VALIDATION_FAILED, added by yoga), on both transports.
 */
export function useValidationErrorsReported(): Plugin {
  return {
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((...args) => {
        try {
          return validateFn(...args) as readonly GraphQLError[];
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      });
    },
  };
}
