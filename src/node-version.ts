// Imported first by main.ts, so that an older Node stops here with a clear
// message instead of failing somewhere inside a dependency. Keep in step with
// `engines` in package.json.
const REQUIRED_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  console.error(
    `TokenHub gateway needs Node.js ${REQUIRED_MAJOR} or newer, but ${process.execPath} is Node.js ${process.versions.node}.\n` +
      `On linux-x64, \`npm ci\` installs Node.js ${REQUIRED_MAJOR} into node_modules/.bin and \`npm start\` uses it; elsewhere, install Node.js ${REQUIRED_MAJOR}.`,
  );
  process.exit(1);
}
