// Package adapters holds everything between the domain and the command
// line, by kind:
//
//   - adapters/app/...: the application services, one exported command or
//     query per use case (accounts, engine, campaigns, contacts), called
//     alike by the CLI, the admin bot and the API;
//   - adapters/<edge>: edges to the outside (telegram, adminbot, llm,
//     offline, eventlog, redact), each with its test double beside it
//     (telegram/telegramtest, adminbot/botapitest, llm/openaitest), as gotd
//     keeps tgtest and net/http keeps httptest.
//
// An edge never imports an application service; `make lint` checks it.
package adapters
