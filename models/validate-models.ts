import { DefinitionError, LarderError, type Problem } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { loadModel } from './model-runtime.ts';

const TRANSFORM_TYPES: Record<string, readonly string[]> = {
  float: ['int64', 'float64', 'bool'],
  bool: ['bool'],
  one_hot: ['string'],
  index: ['string'],
};

/**
 * Checks every model of a repository the way `larder apply` must: each mapped feature's type
 * suits its transform, and the ONNX file opens and takes exactly the matrix the mapping builds.
 * Throws a DefinitionError listing every problem.
 */
export async function validateModels(repo: Repository): Promise<void> {
  const problems: Problem[] = [];
  for (const m of repo.models.values()) {
    const object = `model "${m.spec.name}"`;
    m.spec.inputs.forEach((input, i) => {
      const [view, feature] = input.feature.split(':') as [string, string];
      const type = repo.featureType(view, feature);
      if (type !== null && !TRANSFORM_TYPES[input.transform]?.includes(type)) {
        problems.push({
          at: m.definedAt,
          object,
          field: `inputs[${i}].transform`,
          message: `"${input.feature}" is ${type}; transform "${input.transform}" takes ${TRANSFORM_TYPES[input.transform]?.join(' or ')}`,
        });
      }
    });
    try {
      const runtime = await loadModel(m.spec, repo.root);
      await runtime.close();
    } catch (e) {
      if (!(e instanceof LarderError)) throw e;
      problems.push({
        at: m.definedAt,
        object,
        field: e.message.includes('ONNX file') ? 'path' : 'inputs',
        message: e.message.replace(`${object}: `, ''),
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
  }
  if (problems.length > 0) throw new DefinitionError(problems);
}
