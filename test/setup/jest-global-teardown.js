// See jest-global-setup.js for why this thin JavaScript entry point exists.
import { register } from 'tsx/esm/api'

register()
const { default: globalTeardown } = await import('./global-teardown.ts')
export default globalTeardown
