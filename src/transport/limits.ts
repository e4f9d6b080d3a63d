import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { featureListSizes } from '../features/index.js';
import { useCostLimit, useValidationCache } from './cost.js';

export type DocumentRules = Pick<Config, 'requestLimits' | 'exposure' | 'assumedListSize'>;

/**
 * What a document may ask for, as envelop plugins: they run in yoga's parse
 * and validate, which both transports go through (HTTP in yoga, WebSocket
 * through getEnveloped in operations.ts), so a document over a limit is
 * refused before any resolver runs, on either. Tokens are counted while
 * parsing (GRAPHQL_PARSE_FAILED); depth, aliases, directives and
 * introspection are validation rules, and the cost a validation step that
 * reads the request's variables (cost.ts): all GRAPHQL_VALIDATION_FAILED.
 * The validation cache comes last but one: what it keeps is the verdict of
 * the rules, which is the same for every request of a document; the cost's
 * verdict is added after it, for each request.
 */
export function documentRules({ requestLimits: limits, exposure, assumedListSize }: DocumentRules): Plugin[] {
  // graphql-armor's rules throw out of validate(); reported instead, they are
  // validation errors like any other (yoga's code, status 400, the socket's
  // `error` message), and the message loses armor's misleading "Syntax Error: ".
  const report: GraphQLArmorRejectCallback = (context, error) =>
    context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
  const asValidation = { propagateOnRejection: false, onReject: [report] };
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.tokens }),
    maxDepthPlugin({ n: limits.depth, ...asValidation }),
    maxAliasesPlugin({ n: limits.aliases, ...asValidation }),
    maxDirectivesPlugin({ n: limits.directives, ...asValidation }),
  ];
  if (!exposure.introspection) plugins.push(rule(NoSchemaIntrospectionCustomRule));
  if (!exposure.fieldSuggestions) plugins.push(useHiddenSuggestions());
  plugins.push(useValidationCache(), useCostLimit({ maxCost: limits.cost, assumedListSize, listSizes: featureListSizes }));
  return plugins;
}

function rule(validationRule: ValidationRule): Plugin {
  return { onValidate: ({ addValidationRule }) => addValidationRule(validationRule) };
}

/** graphql-js's " Did you mean …?" in all its wordings (a field, "the enum value", "to use an inline fragment on"). */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * Suggestions name fields, arguments and enum values a client did not ask
 * about: with introspection off they would map the schema one typo at a time.
 * graphql-armor's block-field-suggestions catches only the `Did you mean "x"?`
 * wording; this takes every wording, in validation errors and in the errors
 * of variables coerced at execution.
 */
function useHiddenSuggestions(): Plugin {
  const hide = (errors: readonly Error[]) => {
    for (const error of errors) error.message = error.message.replace(SUGGESTION, '');
  };
  return {
    onValidate:
      () =>
      ({ valid, result }) => {
        if (!valid) hide(result as readonly Error[]);
      },
    onExecute: () => ({
      onExecuteDone({ result }) {
        if (!(Symbol.asyncIterator in result) && result.errors) hide(result.errors as readonly Error[]);
      },
    }),
  };
}
