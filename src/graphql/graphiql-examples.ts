// What GraphiQL opens with: ready-to-run operations and where the token goes.
const defaultQuery = `# TokenHub gateway. Put your token in the Headers tab:
#   { "Authorization": "Bearer <admin token or th-… API key>" }
# models and model need no token.

query Models {
  models { id name aliases inputPricePerMillion outputPricePerMillion enabled recommended }
}

query Viewer {
  viewer { id name balance reserved available apiKeys { id name prefix revokedAt } }
}
`;

export const graphiqlExamples = {
  title: 'TokenHub gateway',
  defaultQuery,
  headers: JSON.stringify({ Authorization: 'Bearer <admin token or th-… API key>' }, null, 2),
  shouldPersistHeaders: true,
};
