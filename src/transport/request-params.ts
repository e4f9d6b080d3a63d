import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * A GET request (and a form-encoded POST) carries `variables` and
 * `extensions` as JSON text in its parameters, which yoga reads with a bare
 * JSON.parse: text that is not JSON threw a SyntaxError, answered as a 500
 * INTERNAL_SERVER_ERROR. It is the client's mistake, refused as yoga refuses
 * a POST body that is not JSON: 400 BAD_REQUEST, without the text.
 */
export function useMalformedParamsRefused(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError('The variables or extensions parameter is not valid JSON.', {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
          });
        }
      });
    },
  };
}
