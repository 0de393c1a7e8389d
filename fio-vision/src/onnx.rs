//! A thin wrapper around a tract plan with one fixed-shape f32 input.

use tract_onnx::prelude::*;

use crate::{manifest, Error};

/// One model output, flattened in row-major order.
#[derive(Clone, Debug)]
pub struct Output {
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

/// An optimised, runnable ONNX model with a fixed input shape.
pub struct OnnxModel {
    name: String,
    input_shape: Vec<usize>,
    plan: std::sync::Arc<TypedRunnableModel>,
}

impl OnnxModel {
    /// Verifies `bytes` against the manifest entry `name`, then loads and optimises the model for
    /// `input_shape`.
    pub fn load(name: &str, bytes: &[u8], input_shape: &[usize]) -> Result<Self, Error> {
        manifest::verify(name, bytes)?;
        let fail = |e: TractError| Error::ModelLoad {
            name: name.to_string(),
            reason: format!("{e:#}"),
        };
        let plan = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(fail)?
            .with_input_fact(0, f32::fact(input_shape).into())
            .map_err(fail)?
            .into_optimized()
            .map_err(fail)?
            .into_runnable()
            .map_err(fail)?;
        Ok(OnnxModel {
            name: name.to_string(),
            input_shape: input_shape.to_vec(),
            plan,
        })
    }

    /// The input shape the model was optimised for.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Runs the model on a flat input in its native layout; returns every output, flattened, with
    /// its shape.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<Output>, Error> {
        let fail = |reason: String| Error::Inference {
            name: self.name.clone(),
            reason,
        };
        let tensor =
            Tensor::from_shape(&self.input_shape, &input).map_err(|e| fail(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| fail(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|t| {
                let view = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| fail(format!("{e:#}")))?;
                let values: Vec<f32> = view.iter().copied().collect();
                if values.iter().any(|v| !v.is_finite()) {
                    return Err(fail("non-finite output".into()));
                }
                Ok(Output {
                    shape: view.shape().to_vec(),
                    values,
                })
            })
            .collect()
    }
}
