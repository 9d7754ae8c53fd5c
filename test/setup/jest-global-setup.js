// Jest loads globalSetup/globalTeardown outside its own module system, where the TypeScript
// sources' `.js` import specifiers do not resolve. tsx's loader does resolve them, so these two thin
// entry points register it and hand over to the TypeScript modules.
import { register } from 'tsx/esm/api'

register()
const { default: globalSetup } = await import('./global-setup.ts')
export default globalSetup
